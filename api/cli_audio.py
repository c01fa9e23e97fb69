"""The audio commands of the ``jacameno`` script: ``analyze``, ``mix``, ``master``, ``coach``.

Each command shows a progress bar on stderr and prints a short table of
figures on stdout; with ``--json`` stdout holds exactly one JSON object with
the same figures (loudness in LUFS, true peak in dBTP, tempo in BPM, key,
coaching notes with ``start_s``, ``end_s``, ``kind`` and ``cents``), and
non-finite figures (the loudness of silence) are ``null``.

Bad input (a missing, empty, corrupt or non-audio file, audio the services
refuse) prints one line on stderr and exits with :data:`EXIT_BAD_INPUT`;
usage mistakes exit with :data:`EXIT_USAGE`, as argparse does. Audio is read
and written block by block (:mod:`audio_services.sources`,
:class:`audio_services.sinks.FileSink`), so a long file costs no more memory
than a short one; the output's format follows its extension (``.wav`` or
``.flac``, 24-bit), and a master's figures are measured on the file as written.

This module declares the commands; :mod:`api.cli_figures` does their work
through the audio services, :mod:`api.cli_tables` lays their figures out, and
:mod:`api.cli_command` runs them (progress, output, exit status).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from jacameno.api.cli_command import EXIT_BAD_INPUT, EXIT_USAGE, command
from jacameno.api.cli_figures import analyze_figures, coach_figures, master_figures, mix_figures
from jacameno.api.cli_tables import analysis_table, coach_table, master_table, mix_table
from jacameno.audio_services.mastering_settings import MASTER_PRESETS
from jacameno.audio_services.mix_presets import MIX_PRESETS, ROLES

__all__ = ["EXIT_BAD_INPUT", "EXIT_USAGE", "add_audio_commands"]


def _key(value: str) -> str:
    """argparse type for ``--key``: a usage error unless it reads like "A minor"."""
    from jacameno.audio_services.intonation import parse_key

    try:
        parse_key(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def _tempo(value: str) -> float:
    """argparse type for ``--tempo``: a positive number of beats per minute."""
    try:
        tempo_bpm = float(value)
    except ValueError:
        tempo_bpm = math.nan
    if not 20.0 <= tempo_bpm <= 400.0:
        raise argparse.ArgumentTypeError(f"tempo must be 20-400 BPM, got {value!r}")
    return tempo_bpm


def add_audio_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``analyze``, ``mix``, ``master`` and ``coach`` on the ``jacameno`` parser."""
    json_help = "print the figures as one JSON object on stdout"

    analyze = commands.add_parser("analyze", help="loudness, true peak, tempo and key of a file")
    analyze.add_argument("file", type=Path, help="audio file (WAV, FLAC, OGG, MP3)")
    analyze.add_argument("--json", action="store_true", help=json_help)
    analyze.set_defaults(handler=command(analyze_figures, analysis_table, lambda _: 2))

    mix = commands.add_parser("mix", help="mix stems into a stereo file with a genre preset")
    mix.add_argument("stems", nargs="+", type=Path, help="stem files; the role comes from the name")
    mix.add_argument("-o", "--output", type=Path, required=True, help="mix to write (.wav, .flac)")
    mix.add_argument("--preset", default="pop", choices=sorted(MIX_PRESETS), help="default pop")
    for option, meta, what in (
        ("--gain", "NAME=DB", "extra gain in dB for the stem NAME (file name without extension)"),
        ("--pan", "NAME=PAN", "pan of the stem NAME, -1 (left) to 1 (right)"),
        ("--role", "NAME=ROLE", f"role of the stem NAME: {', '.join(ROLES)}"),
    ):
        mix.add_argument(option, action="append", default=[], metavar=meta, help=what)
    mix.add_argument("--json", action="store_true", help=json_help)
    mix.set_defaults(handler=command(mix_figures, mix_table, lambda args: len(args.stems) + 2))

    master = commands.add_parser("master", help="master a mix to a loudness target")
    master.add_argument("input", type=Path, help="mix to master")
    master.add_argument("-o", "--output", type=Path, required=True, help="master (.wav, .flac)")
    master.add_argument(
        "--preset", default="streaming", choices=list(MASTER_PRESETS), help="default streaming"
    )
    master.add_argument("--target-lufs", type=float, help="integrated loudness target (LUFS)")
    master.add_argument("--ceiling-dbtp", type=float, help="true-peak ceiling (dBTP)")
    master.add_argument("--json", action="store_true", help=json_help)
    master.set_defaults(handler=command(master_figures, master_table, lambda _: 4))

    coach = commands.add_parser("coach", help="intonation and timing notes on a sung take")
    coach.add_argument("vocal", type=Path, help="the sung take (mono or stereo audio)")
    coach.add_argument("--key", type=_key, help='the song\'s key, e.g. "A minor"')
    coach.add_argument(
        "--reference",
        type=Path,
        help="the melody: audio (guide vocal, lead line), MIDI (.mid), "
        "or a note list (.csv/.txt: start_s, end_s, note per line)",
    )
    coach.add_argument("--tempo", type=_tempo, help="tempo in BPM, to time onsets on the beat")
    coach.add_argument("--first-beat", type=float, default=0.0, help="time of beat 1 (s)")
    coach.add_argument("--svg", type=Path, help="also draw the pitch curve into this .svg")
    coach.add_argument("--json", action="store_true", help=json_help)
    coach.set_defaults(
        handler=command(
            coach_figures,
            coach_table,
            lambda args: 3 + (args.reference is not None) + (args.svg is not None),
        )
    )
