"""``jacameno demo``: a demo account and a project with generated stems, ready to mix.

It runs the application's own lifespan in-process (database, object store, rooms,
job runner), so the demo goes through the same code as an upload: assets in the
object store, rows in the database, tracks in the project document, and an
analysis job per track that finishes before the command returns.
"""

from __future__ import annotations

import functools
import tempfile
from dataclasses import dataclass
from pathlib import Path

import anyio
import structlog
from sqlalchemy import select

from jacameno.api.app import create_app
from jacameno.api.db.models import Membership, Project, ProjectRole, User
from jacameno.api.job_runtime import StoreAssetStore
from jacameno.api.services import AppServices
from jacameno.api.settings import Environment, Settings, SettingsError
from jacameno.audio_services.audio_io import write_audio
from jacameno.audio_services.demo_stems import demo_song
from jacameno.docs_model import JobStatus, ProjectDocument

log = structlog.get_logger("jacameno.demo")

DEMO_EMAIL = "demo@jacameno.local"
#: A fixed password for a local demo account; `jacameno demo` refuses to run in production.
DEMO_PASSWORD = "jacameno-demo"  # noqa: S105 - documented demo login, development only
DEMO_PROJECT = "Demo: Night Train"
#: Track kind and name per generated stem.
STEMS = {"drums": "audio", "bass": "instrument", "chords": "instrument", "vocal": "vocal"}
ANALYSIS_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class DemoResult:
    email: str
    password: str
    project_id: str
    created: bool


async def create_demo(settings: Settings) -> DemoResult:
    """Create (once) the demo account and project; return how to log in."""
    if settings.env is Environment.PRODUCTION:
        raise SettingsError("jacameno demo creates a known login; it does not run in production")
    app = create_app(settings)
    async with app.router.lifespan_context(app) as state:
        assert state is not None, "the application lifespan yields its services"
        services = state["services"]
        assert isinstance(services, AppServices)
        user_id, project_id, created = await _account_and_project(services)
        if created:
            await _add_stems(services, user_id, project_id)
        await _wait_for_analysis(services, project_id)
    return DemoResult(DEMO_EMAIL, DEMO_PASSWORD, project_id, created)


async def _account_and_project(services: AppServices) -> tuple[str, str, bool]:
    async with services.database.session() as session:
        user = (
            await session.execute(select(User).where(User.email == DEMO_EMAIL))
        ).scalar_one_or_none()
        if user is None:
            user = User(
                email=DEMO_EMAIL,
                display_name="Demo",
                password_hash=await services.passwords.hash(DEMO_PASSWORD),
            )
            session.add(user)
            await session.flush()
        existing = (
            await session.execute(
                select(Project.id)
                .join(Membership, Membership.project_id == Project.id)
                .where(Membership.user_id == user.id, Project.name == DEMO_PROJECT)
            )
        ).scalar_one_or_none()
        if existing is not None:
            return user.id, existing, False
        project = Project(
            name=DEMO_PROJECT,
            description="Generated stems: drums, bass, chords and a sung melody (A minor, 100 BPM)",
            created_by=user.id,
        )
        session.add(project)
        await session.flush()
        session.add(
            Membership(project_id=project.id, user_id=user.id, role=ProjectRole.OWNER.value)
        )
        return user.id, project.id, True


async def _add_stems(services: AppServices, user_id: str, project_id: str) -> None:
    song = await anyio.to_thread.run_sync(demo_song)
    assets = StoreAssetStore(services.database, services.store)
    async with services.rooms.document(project_id, origin="service:demo") as doc:
        ProjectDocument(doc).initialise(
            title="Night Train", bpm=song.tempo_bpm, key=song.key, time_signature="4/4"
        )
    with tempfile.TemporaryDirectory(prefix="jacameno-demo-") as folder:
        for name, kind in STEMS.items():
            path = Path(folder) / f"{name}.flac"
            samples = song.stems[name]
            await anyio.to_thread.run_sync(
                functools.partial(write_audio, path, samples, song.sample_rate, format="FLAC")
            )
            asset_id = await assets.add(
                project_id,
                path,
                kind="upload",
                filename=path.name,
                content_type="audio/flac",
                audio={
                    "duration_s": samples.shape[-1] / song.sample_rate,
                    "sample_rate": song.sample_rate,
                    "channels": samples.shape[0],
                },
                created_by=user_id,
            )
            await services.jobs.add_track(
                project_id,
                name,
                kind,
                asset_id,
                f"user:{user_id}",
                duration_s=samples.shape[-1] / song.sample_rate,
            )


async def _wait_for_analysis(services: AppServices, project_id: str) -> None:
    """Wait (bounded) until no job of the demo project is queued or running."""
    with anyio.move_on_after(ANALYSIS_TIMEOUT_S):
        while True:
            async with services.rooms.document(project_id, origin="service:demo") as doc:
                pending = [
                    job
                    for job in ProjectDocument(doc).list_jobs()
                    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
                ]
            if not pending:
                return
            await anyio.sleep(0.5)
