"""Load shapes as stage plans: users over time, and the end at duration_s."""

from __future__ import annotations

import pytest

from gauntlet.load.shapes import Stage, plan, target_at


def users_over(stages, duration):
    return [target_at(stages, t) for t in range(0, duration + 1)]


def test_steady_holds_the_users_until_the_duration_then_ends():
    stages = plan("steady", users=5, spawn_rate=5, duration_s=20)
    assert stages == (Stage(20, 5, 5),)
    assert target_at(stages, 0) == (5, 5) and target_at(stages, 19.9) == (5, 5)
    assert target_at(stages, 20) is None


def test_step_climbs_in_equal_plateaus_to_the_users():
    stages = plan("step", users=300, spawn_rate=20, duration_s=900, steps=5)
    assert [s.users for s in stages] == [60, 120, 180, 240, 300]
    assert [s.until_s for s in stages] == [180, 360, 540, 720, 900]
    assert target_at(stages, 200) == (120, 20)


def test_step_never_has_more_steps_than_users():
    assert [s.users for s in plan("step", users=2, spawn_rate=1, duration_s=10, steps=5)] == [1, 2]


def test_spike_rises_from_a_tenth_to_all_users_in_the_middle_and_falls_back():
    stages = plan("spike", users=200, spawn_rate=50, duration_s=120)
    seen = users_over(stages, 120)
    assert seen[0][0] == 20 and seen[47][0] == 20
    assert seen[48][0] == 200 and seen[71][0] == 200
    assert seen[72][0] == 20 and seen[119][0] == 20
    assert seen[120] is None


def test_soak_ramps_gently_over_the_first_tenth():
    (stage,) = plan("soak", users=100, spawn_rate=50, duration_s=3600)
    assert stage.users == 100 and stage.until_s == 3600
    assert stage.spawn_rate == pytest.approx(100 / 360)


def test_soak_never_ramps_faster_than_the_profile_allows():
    (stage,) = plan("soak", users=100, spawn_rate=0.1, duration_s=60)
    assert stage.spawn_rate == 0.1


def test_unknown_shape_is_refused():
    with pytest.raises(ValueError, match="unknown shape 'wave'"):
        plan("wave", 1, 1, 1)
