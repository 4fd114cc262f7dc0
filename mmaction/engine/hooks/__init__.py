"""Training hooks: crash-safe checkpoints and random-state checkpointing, schedules kept right across resumes."""

from .atomic_checkpoint_hook import AtomicCheckpointHook
from .rng_state_hook import RNGStateHook
from .schedule_resume_hook import ScheduleResumeHook

__all__ = ["AtomicCheckpointHook", "RNGStateHook", "ScheduleResumeHook"]
