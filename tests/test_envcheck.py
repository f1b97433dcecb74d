from lvmlib import envcheck


def test_report_flags_missing_and_old_packages(capsys):
    report = dict((name, ok) for name, ok, _ in envcheck.check_environment({"numpy": "1.0", "not-a-package": "1.0",
                                                                            "scipy": "999.0"}))
    assert report == {"python": True, "numpy": True, "not-a-package": False, "scipy": False}
    assert envcheck.print_environment_report({"not-a-package": "1.0"}) is False
    out = capsys.readouterr().out
    assert "PROBLEM" in out and "pip install 'not-a-package>=1.0'" in out


def test_the_course_environment_is_complete():
    assert all(ok for _, ok, _ in envcheck.check_environment()), envcheck.check_environment()
