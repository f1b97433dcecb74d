"""Make sure Debian's Chromium is available for the browser tests (installing it with apt when we are root).

Never downloads a browser build of its own: Playwright drives the system's ``chromium``.
Prints what it did; never fails the test run (the browser tests skip with a reason if Chromium is absent).
"""

import os
import shutil
import subprocess


def main():
    if shutil.which("chromium"):
        return
    if shutil.which("apt-get") and os.geteuid() == 0:
        print("ensure_browser: installing Debian's chromium for the browser tests (apt-get)...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=False, env=env,
                       stdout=subprocess.DEVNULL)
    if not shutil.which("chromium"):
        print("ensure_browser: chromium not found and not installable here; the browser tests will skip. "
              "Install it with your package manager (e.g. `sudo apt-get install chromium`).")


if __name__ == "__main__":
    main()
