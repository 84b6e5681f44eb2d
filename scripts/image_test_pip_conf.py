"""Print a pip.conf for the image test's stand-in base: this machine's pip settings.

pip reads /etc/pip.conf, the user's files and PIP_* variables; the build inside Docker
sees none of them. What is copied: every setting of the `global` and `install` sections
and every PIP_* variable (`PIP_DEFAULT_TIMEOUT` -> `default-timeout`), except what
cannot work inside the image: `find-links` folders and certificate paths of this
machine (the bundle itself is copied to /etc/ssl/certs/ca-certificates.crt, named here),
and `file://` indexes (folders of this machine).
"""

from __future__ import annotations

import configparser
import os
import sys
from pathlib import Path

FILES = [Path("/etc/pip.conf"), Path.home() / ".config/pip/pip.conf", Path.home() / ".pip/pip.conf"]
IMAGE_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
DROP = {"find-links", "cert", "client-cert", "config-file", "disable-pip-version-check"}


def settings() -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {"global": {}, "install": {}}
    parser = configparser.ConfigParser()
    parser.read([str(path) for path in FILES if path.is_file()])
    for section in found:
        if parser.has_section(section):
            found[section].update(parser[section])
    for name, value in os.environ.items():
        if name.startswith("PIP_") and name != "PIP_CONFIG_FILE":
            found["global"][name[4:].lower().replace("_", "-")] = value
    for entries in found.values():
        for key in DROP & set(entries):
            del entries[key]
        for key in ("index-url", "extra-index-url"):
            if key in entries:
                urls = [u for u in entries[key].split() if not u.startswith("file:")]
                if urls:
                    entries[key] = " ".join(urls)
                else:
                    del entries[key]
    found["global"]["cert"] = IMAGE_BUNDLE
    return found


def main() -> None:
    config = configparser.ConfigParser()
    for section, values in settings().items():
        if values:
            config[section] = values
    config.write(sys.stdout)


if __name__ == "__main__":
    main()
