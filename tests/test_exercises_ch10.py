"""vglab.exercises.ch10: the four recorded runs show what the hints say, and the check names the wrong run."""

import numpy as np
import pytest

import vglab as vg
from vglab.exercises import ExerciseError, check
from vglab.exercises.ch10 import CAUSES, recorded_runs, summary

RIGHT = {"A": "saturated", "B": "learning_rate", "C": "vanishing", "D": "dead"}


@pytest.fixture(scope="module")
def runs():
    return recorded_runs()


def test_each_run_shows_its_cause_and_only_it(runs):
    s = {k: summary(rec) for k, rec in runs.items()}
    assert runs["A"].kinds[:-1] == ["Tanh"] * 5 and runs["C"].kinds[:-1] == ["Sigmoid"] * 9
    assert runs["B"].kinds[:-1] == ["ReLU"] * 5 and runs["D"].kinds[:-1] == ["ReLU"] * 5
    assert s["A"]["saturation_max"] > 0.5                                   # "more than half"
    assert s["C"]["saturation_max"] < 0.01 and s["C"]["grad_ratio_max"] < 2e-7   # "about 1e-7", hardly saturated
    assert s["D"]["dead_max"] > 0.5                                         # "most ReLU units" in some layer
    assert s["B"]["dead_max"] < 0.25 and 0.1 < s["B"]["grad_ratio_max"] < 10
    upd_b = runs["B"].update_ratio[1:]                                      # every layer, every recorded step
    assert np.all((upd_b > 1e-7) & (upd_b < 1e-5))                          # "about 1e-6"
    assert np.nanmax(runs["A"].update_ratio[1:]) > 1e-4 and np.nanmax(runs["D"].update_ratio[1:]) > 1e-4


def test_runs_are_deterministic_and_leave_the_generator_alone(runs):
    vg.manual_seed(123)
    state = vg.backend.rng().bit_generator.state
    again = recorded_runs()
    assert vg.backend.rng().bit_generator.state == state
    for k in runs:
        np.testing.assert_array_equal(again[k].grad_norm, runs[k].grad_norm)


def test_check_accepts_the_right_answer_in_any_spelling():
    assert "Correct" in check("ch10-diagnose", RIGHT)
    assert "Correct" in check("ch10-diagnose", {"a": "Saturated", "b": "learning rate", "c": "vanishing", "d": "dead"})


def test_check_names_the_first_wrong_run_with_a_hint():
    hint = r"1 of the four is wrong\. Run A is not 'vanishing': look at rec\.saturation"
    with pytest.raises(ExerciseError, match=hint):
        check("ch10-diagnose", {**RIGHT, "A": "vanishing"})
    with pytest.raises(ExerciseError, match=r"2 of the four are wrong\. Run B is not 'vanishing': .*rec\.update_ratio"):
        check("ch10-diagnose", {**RIGHT, "B": "vanishing", "D": "vanishing"})


@pytest.mark.parametrize("answer, message", [
    ("vanishing", "answer with a dict"),
    ({"A": "dead"}, "name the cause of each of the runs A, B, C and D"),
    ({**RIGHT, "C": "exploding"}, "the cause of run C should be one of"),
])
def test_check_rejects_malformed_answers(answer, message):
    with pytest.raises(ExerciseError, match=message):
        check("ch10-diagnose", answer)


def test_causes_are_the_four_answers():
    assert sorted(CAUSES) == sorted(set(RIGHT.values()))
