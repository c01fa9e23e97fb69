"""Named lyric styles: a small vocabulary each, the words a restyle may bring in.

Each style lists some 50 to 70 words a listener hears as that style (nouns,
adjectives and verbs, with the inflected forms lyrics use: ``riding``, ``boots``),
all in the CMU pronouncing dictionary so their syllables are known.
:mod:`.restyle` swaps a verse's content words for the nearest of them in meaning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jacameno.audio_services.lyrics.model import LyricsError
from jacameno.audio_services.lyrics.word_classes import PartOfSpeech

__all__ = ["STYLES", "StyleVocabulary", "known_styles", "style_name", "style_vocabulary"]


@dataclass(frozen=True, slots=True)
class StyleVocabulary:
    """A style's words by part of speech (verbs in the forms lyrics use them)."""

    nouns: tuple[str, ...]
    adjectives: tuple[str, ...]
    verbs: tuple[str, ...]

    @classmethod
    def of(cls, nouns: str, adjectives: str, verbs: str) -> StyleVocabulary:
        return cls(tuple(nouns.split()), tuple(adjectives.split()), tuple(verbs.split()))

    def tagged(self) -> tuple[tuple[str, PartOfSpeech], ...]:
        """Every word with its part of speech."""
        return (
            *((word, PartOfSpeech.NOUN) for word in self.nouns),
            *((word, PartOfSpeech.ADJECTIVE) for word in self.adjectives),
            *((word, PartOfSpeech.VERB) for word in self.verbs),
        )


STYLES: dict[str, StyleVocabulary] = {
    "country": StyleVocabulary.of(
        "truck trucks pickup tractor whiskey bourbon porch barn creek hometown jukebox rodeo"
        " saddle cowboy boots denim fiddle dust gravel tailgate moonshine prairie pasture"
        " heartland sunset sweetheart darling mama preacher county fields steel banjo horse"
        " horses cattle ranch harvest sunday highway outlaw",
        "dusty muddy rusty lonesome honest humble southern rowdy barefoot weathered faded",
        "ride riding rode drive driving drove holler hollering drinking dancing fishing"
        " hunting praying wander wandered",
    ),
    "hip hop": StyleVocabulary.of(
        "block street streets hustle grind flow beat beats mic rhyme rhymes crew squad hood"
        " corner concrete cash money paper gold chain chains crown hustler hustlers haters"
        " dream dreams king queen fame legend legacy rhythm bass stage bars verse game"
        " player whip ice diamonds boss",
        "real fresh raw bold loud crazy dope loyal hard fly",
        "hustle hustling hustled grind grinding flex flexing flexed spit spitting rolling"
        " rolled stacking rap rapping shine balling",
    ),
    "gospel": StyleVocabulary.of(
        "grace glory heaven spirit lord savior mercy faith blessing blessings praise prayer"
        " prayers shepherd jordan angel angels choir hallelujah church sinner sinners"
        " salvation kingdom wings soul souls trumpet cross mountain valley jesus gospel hymn"
        " hymns throne",
        "heavenly holy faithful blessed righteous eternal glorious gentle mighty humble",
        "pray praying prayed praise praising redeem redeemed kneel kneeling knelt rise rising"
        " rose sing singing sang shine shining shone",
    ),
    "gothic": StyleVocabulary.of(
        "shadow shadows raven ravens crypt tomb grave graves coffin candle candles moonlight"
        " midnight ghost ghosts phantom velvet blood bones skull cathedral ruin ruins ashes"
        " thorn thorns rose roses veil sorrow sorrows darkness abyss lantern fog mist decay"
        " gloom dread",
        "crimson haunted hollow pale black withered dead ancient wicked cursed eerie gloomy"
        " spectral",
        "wither withered whisper whispering whispered bleed bleeding mourn mourning mourned"
        " haunt haunting dying decayed",
    ),
    "pop": StyleVocabulary.of(
        "baby heartbeat lover crush kiss kisses party lights neon glitter sparkle summer"
        " sunshine starlight stars rhythm sky fever candy sugar honey diamond spotlight"
        " mirror phone radio",
        "crazy sweet golden electric wild young free perfect shiny",
        "dance dancing danced shine shining feel feeling fly flying dreaming glow glowing"
        " shimmer falling kissing kissed",
    ),
    "folk": StyleVocabulary.of(
        "river meadow valley mountain hills willow oak pine fields harvest lantern cabin"
        " hearth kettle fiddle banjo wanderer traveler stranger mother father brother sister"
        " morning dew wind winds snow stone creek shore ferry wagon roads mill miller farmer"
        " orchard sparrow",
        "weary gentle humble simple quiet lonesome homeward",
        "wander wandering wandered ramble rambling rambled sow reap reaping plow plowing",
    ),
    "blues": StyleVocabulary.of(
        "blues midnight whiskey bottle train station railroad crossroads devil woman misery"
        " trouble troubles tears jail chains levee delta shack cotton shoes suitcase mojo"
        " landlord rent dollar preacher pawn guitar",
        "lonely weary tired broke lowdown muddy empty hungry worried gone",
        "moan moaning moaned cry crying cried worry worrying cheating leaving rambling gambling",
    ),
    "punk": StyleVocabulary.of(
        "riot rage anger noise anarchy system rebel rebels rebellion kids alley gutter"
        " concrete brick bricks fist fists boredom chaos wreck leather jacket cops police"
        " government plastic sewer static",
        "loud fast bored broke rotten sick ugly fake wasted",
        "scream screaming screamed smash smashing smashed burn burning burned kick kicking"
        " kicked destroy wrecking spit",
    ),
}

#: Spellings of a style name that mean the same style ("Hip-Hop", "hiphop").
_ALIASES = {"hiphop": "hip hop", "rap": "hip hop", "goth": "gothic", "punk rock": "punk"}


def known_styles() -> tuple[str, ...]:
    """The names of the built-in styles, sorted."""
    return tuple(sorted(STYLES))


def style_name(name: str) -> str:
    """The known style ``name`` means (any case; ``-`` and ``_`` read as spaces;
    "hiphop", "rap", "goth" as their styles).

    Raises:
        LyricsError: the name is not one of :func:`known_styles`.
    """
    key = " ".join(re.sub(r"[-_]", " ", name.lower()).split())
    key = _ALIASES.get(key, key)
    if key not in STYLES:
        raise LyricsError(
            f"unknown style {name!r}: the offline model knows {', '.join(known_styles())}"
            " (or give examples of your own lines for your style)"
        )
    return key


def style_vocabulary(name: str) -> StyleVocabulary:
    """The vocabulary of the style ``name`` (read as :func:`style_name` reads it)."""
    return STYLES[style_name(name)]
