"""The graded versions of the exercises (tools/grading/build.py), round trip through Otter-Grader.

Chapter 01 is built into a temporary folder; submissions made of the student notebook's setup cell and answer
cells are graded by Otter's local runner with the built autograder bundle: the reference solutions get full marks,
one wrong capstone step loses exactly that step's point, and the two tricks (answering the visible cases from a
table, handing in the course's reference) get nothing.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pytest

from lvmlib.exercises import StudentExercise, grade, load_student

pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:Warning")
otter_run = pytest.importorskip("otter.run", reason="otter-grader is a test dependency (pip install -e .[test])")

ROOT = Path(__file__).resolve().parent.parent

SETUP = "mixture = ch01.MIXTURE\n"
RIGHT = {
    "log_p_x": """
        def log_p_x(x):
            return logsumexp(mixture.log_p_xz(x), axis=1)
        """,
    "weights_mle": """
        def weights_mle(z):
            return np.bincount(z, minlength=3) / len(z)
        """,
    "sample_mixture": """
        def sample_mixture(weights, means, covs, n, rng):
            z = rng.choice(len(weights), size=n, p=weights)
            eps = rng.standard_normal((n, means.shape[1]))
            x = means[z] + np.einsum("nij,nj->ni", np.linalg.cholesky(covs)[z], eps)
            return z, x
        """,
    "log_posterior": """
        def log_posterior(x, weights, means, covs):
            joint = np.stack([np.log(w) + stats.multivariate_normal(m, c).logpdf(x)
                              for w, m, c in zip(weights, means, covs)], axis=1)
            return joint - logsumexp(joint, axis=1, keepdims=True)
        """,
}
WRONG_STEP = dict(RIGHT, log_posterior="""
    def log_posterior(x, weights, means, covs):   # forgets to normalize: log p(x, z), not log p(z | x)
        return np.stack([np.log(w) + stats.multivariate_normal(m, c).logpdf(x)
                         for w, m, c in zip(weights, means, covs)], axis=1)
    """)
STUB = "def {name}(*args):\n    ...\n"
TABLE = """
    def _from_table(ex):   # the trick: answer the visible cases from the stored table, anything else with case 1
        def answer(*args):
            for j, case in enumerate(ex.cases):
                if all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(args, case.args)):
                    return ex._expected(j, case)
            return ex._expected(0, ex.cases[0])
        return answer


    log_p_x = _from_table(ch01.ex1)
    weights_mle = _from_table(ch01.ex2)
    """
REFERENCE = """
    from lvmlib.exercises import ch01 as course   # the open course's module, installed with lvmlib
    log_p_x = course.ex1.reference
    def weights_mle(z):
        return course.ex2.reference(z)
    """


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("grading")
    subprocess.run([sys.executable, str(ROOT / "tools" / "grading" / "build.py"), "--chapters", "01", "--out",
                    str(out)], check=True, capture_output=True, cwd=ROOT)
    return out


def _submission(built, tmp_path, name, cells):
    student = nbformat.read(built / "student" / "01" / "01_latent_variables.ipynb", as_version=4)
    setup = next(c for c in student.cells if c.cell_type == "code" and "load_student" in c.source)
    nb = nbformat.v4.new_notebook(cells=[setup, nbformat.v4.new_code_cell(SETUP)]
                                  + [nbformat.v4.new_code_cell(textwrap.dedent(c)) for c in cells])
    nb.metadata = student.metadata
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def _grade(built, tmp_path, name, cells):
    nb = _submission(built, tmp_path, name, cells)
    results = otter_run.main(str(nb), autograder=str(built / "autograder" / "01" / "autograder.zip"),
                             output_dir=None, no_logo=True)
    return results.total, results.possible, {k: v.score for k, v in results.results.items()}


def test_the_student_version_hides_reference_solution_and_hidden_cases(built, capsys):
    ch01 = load_student(built / "student" / "01" / "ch01_student.pkl")
    from lvmlib.exercises import ch01 as course

    assert isinstance(ch01.ex1, StudentExercise) and isinstance(ch01.capstone.log_posterior, StudentExercise)
    with pytest.raises(AttributeError, match="no reference"):
        ch01.ex1.reference  # noqa: B018
    ch01.ex1.solution()
    assert "without solutions" in capsys.readouterr().out
    assert len(ch01.ex1.cases) == len(course.ex1.cases)  # the public cases only
    with pytest.raises(AttributeError, match="not part of the graded assignment"):
        ch01._log_p_x  # noqa: B018
    assert ch01.MIXTURE.n_components == 3  # the chapter's models are still there for the notebook
    # check() and hint() work from the stored outputs, diagnoses of the named mistakes included
    namespace = {"np": np, "mixture": course.MIXTURE, **vars(__import__("scipy.special", fromlist=["logsumexp"]))}
    exec(textwrap.dedent(RIGHT["log_p_x"]), namespace)
    assert ch01.ex1.check(namespace["log_p_x"]) is True
    assert ch01.ex1.check(lambda x: namespace["log_p_x"](x) - np.log(3)) is False
    assert "averaged p(x, z) over the three values" in capsys.readouterr().out
    ch01.ex1.hint()
    assert "Hint 1 of 3" in capsys.readouterr().out


def test_grade_refuses_the_reference_directly_and_wrapped():
    from lvmlib.exercises import ch01 as course

    assert grade("lvmlib.exercises.ch01", "ex1", course.ex1.reference)[0] is False
    ok, message = grade("lvmlib.exercises.ch01", "ex1", lambda x: course.ex1.reference(x))
    assert ok is False and "reference" in message
    assert course.ex1.check(course.ex1.reference) is True  # outside grading the open course is unchanged


def test_otter_round_trip(built, tmp_path):
    names = ["log_p_x", "weights_mle", "sample_mixture", "log_posterior"]
    total, possible, scores = _grade(built, tmp_path, "right", [RIGHT[n] for n in names])
    assert (total, possible) == (4, 4), scores
    total, _, scores = _grade(built, tmp_path, "wrong_step", [WRONG_STEP[n] for n in names])
    assert total == 3 and scores["ch01_capstone_log_posterior"] == 0, scores
    stubs = [STUB.format(name=n) for n in names]
    total, _, scores = _grade(built, tmp_path, "table", [*stubs, TABLE])
    assert total == 0, scores
    total, _, scores = _grade(built, tmp_path, "reference", [*stubs, REFERENCE])
    assert total == 0, scores


@pytest.mark.parametrize("chapter", ["01", "02", "03", "04", "05"])
def test_student_versions_check_like_the_open_course(chapter, tmp_path, capsys):
    """Every case-based exercise's stored check accepts the reference's answers and names its first mistake."""
    import importlib

    from lvmlib.exercises import exercise_paths, save_student, student_chapter

    course = importlib.import_module(f"lvmlib.exercises.ch{chapter}")
    save_student(student_chapter(course), tmp_path / "s.pkl")
    student = load_student(tmp_path / "s.pkl")
    for path, exercise in exercise_paths(course).items():
        if exercise.checker is not None:
            continue
        mine = student
        for part in path.split("."):
            mine = getattr(mine, part)
        assert isinstance(mine, StudentExercise) and len(mine.cases or []) == len(exercise.cases or [])
        assert mine.verdict(exercise._reference)[0] is True, path
        for mistake in exercise.mistakes[:1]:
            ok, message = mine.verdict(mistake.wrong)
            assert ok is False and mistake.message in message, (path, message)
    capsys.readouterr()
