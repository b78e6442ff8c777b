"""Trainee practice: drills, feedback schedules, blocks, scores and the drill runner."""
