#!/usr/bin/env python3
"""Property-based fuzzing of the hub's API from its own openapi.json, with schemathesis.

Starts a real `rollcall-hub serve` (real SQLite file, embedded broker, face models when
ROLLCALL_MODELS_DIR or the default models directory has them), seeds a school so that handlers
reach past their "not found" answers, then lets schemathesis generate requests for every
documented operation three times over: signed in as an admin, as a teacher, and with a token
that is not one (with no header at all, schemathesis 4.32 tries to discover a sign-up flow and
stops with an internal error).
Before fuzzing, the document the hub serves is checked by a maintained validator
(openapi-spec-validator, beside `st` in its virtual environment) against the OpenAPI version
the document declares.
Passes only when no answer was a 5xx and the hub is still alive and healthy at the end.

usage: api_fuzz.py HUB_BINARY ST_BINARY [SECONDS_PER_ROLE]
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

PASSWORD = "fuzzing is a kind of care"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def validate_document(base, validator, work):
    """The served openapi.json, as a client generator would read it: a name of the failure, or None."""
    status, document = call(base, "GET", "/openapi.json")
    if status != 200:
        return f"GET /openapi.json answered {status}"
    path = os.path.join(work, "openapi.json")
    with open(path, "w") as f:
        json.dump(document, f)
    checked = subprocess.run([validator, path], capture_output=True, text=True)
    print(f"==> openapi-spec-validator, OpenAPI {document.get('openapi')}: {checked.stdout.strip()}")
    if checked.returncode != 0:
        print(checked.stdout[-4000:], checked.stderr[-4000:])
        return "the served openapi.json is not valid OpenAPI " + str(document.get("openapi"))
    return None


def wait_healthy(base, hub, deadline):
    while time.time() < deadline:
        if hub.poll() is not None:
            sys.exit(f"api-fuzz: the hub exited at start with {hub.returncode}")
        try:
            if call(base, "GET", "/health")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit("api-fuzz: the hub did not become healthy in time")


def login(base, user):
    status, body = call(base, "POST", "/auth/login", {"username": user, "password": PASSWORD})
    assert status == 200, f"login {user}: {status} {body}"
    return body["access_token"]


def seed(base, admin):
    """A teacher with a class, two students, a timetable slot, a term and a door unit."""
    teacher = call(base, "POST", "/users", {"username": "tess", "role": "teacher",
                                            "password": PASSWORD}, admin)[1]
    klass = call(base, "POST", "/classes", {"name": "7B", "teacher_id": teacher["id"]}, admin)[1]
    for name in ["Ada", "Bo"]:
        student = call(base, "POST", "/students", {"name": name}, admin)[1]
        call(base, "PUT", f"/classes/{klass['id']}/students/{student['id']}", {}, admin)
    call(base, "POST", "/timetable", {"class_id": klass["id"], "room": "Lab 3", "weekday": 1,
                                      "start": "09:00", "end": "10:00"}, admin)
    call(base, "POST", "/calendar/terms", {"name": "Autumn", "first_day": "2026-09-01",
                                           "last_day": "2026-12-18"}, admin)
    call(base, "POST", "/devices", {"name": "door-lab3", "room": "Lab 3"}, admin)


# Changing a password ends every sign-in of that user, the fuzzer's own included (it finds ids
# in answers): fuzzed last, on its own, so the other runs keep a live token throughout.
PASSWORDS = ".*/password$"


def fuzz(st, base, token, seconds, label, work, only=None):
    select = ["--include-path-regex", only] if only else ["--exclude-path-regex", PASSWORDS]
    cmd = [st, "run", base + "/openapi.json", *select, "--checks", "not_a_server_error",
           "--phases", "examples,coverage,fuzzing", "--max-time", str(seconds),
           "--workers", "1", "--request-timeout", "30", "--suppress-health-check", "all",
           "--continue-on-failure", "--no-color", "--generation-database", "none"]
    cmd += ["--header", "Authorization: Bearer " + token]
    print(f"\n==> schemathesis as {label}: {' '.join(cmd[:2])} ... ({seconds} s)", flush=True)
    return subprocess.run(cmd, cwd=work).returncode


def main():
    # Absolute: the fuzzer runs with the scratch directory as its working directory.
    hub_bin, st = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 60
    work = tempfile.mkdtemp(prefix="rollcall-api-fuzz-")
    data = os.path.join(work, "data")
    with open(os.path.join(work, "password"), "w") as f:
        f.write(PASSWORD)
    subprocess.run([hub_bin, "init", "--data-dir", data, "--admin-user", "admin",
                    "--admin-password-file", os.path.join(work, "password")], check=True)
    http, mqtt = free_port(), free_port()
    config = os.path.join(work, "hub.toml")
    with open(config, "w") as f:
        # The fuzzer calls far faster than any page: paced at the defaults, most of its
        # requests would only meet 429 and test nothing else.
        f.write(f'site = "fuzz"\ndata_dir = "{data}"\n[http]\nlisten = "127.0.0.1:{http}"\n'
                f'[http.limits]\naccount = {{ burst = 100000, per_minute = 6000000 }}\n'
                f'address = {{ burst = 100000, per_minute = 6000000 }}\n'
                f'[mqtt.embedded]\nlisten = "127.0.0.1:{mqtt}"\n')
    log = open(os.path.join(work, "hub.log"), "w")
    hub = subprocess.Popen([hub_bin, "serve", "--config", config], stdout=log, stderr=log)
    base = f"http://127.0.0.1:{http}/api/v1"
    failed = []
    try:
        wait_healthy(base, hub, time.time() + 120)
        invalid = validate_document(base, os.path.join(os.path.dirname(st), "openapi-spec-validator"), work)
        if invalid:
            failed.append(invalid)
        admin = login(base, "admin")
        seed(base, admin)
        teacher = login(base, "tess")
        # The admin runs last: it may disable or delete the teacher.
        runs = [("teacher", teacher, None), ("a stranger", "not-a-token", None),
                ("admin", admin, None), ("admin, passwords", admin, PASSWORDS)]
        for label, token, only in runs:
            if fuzz(st, base, token, seconds if not only else 10, label, work, only) != 0:
                failed.append(label)
            if hub.poll() is not None:
                failed.append(f"hub exited with {hub.returncode} during the {label} run")
                break
            # A run whose token died half-way fuzzed little but the 401 path.
            if not only and token != "not-a-token" and call(base, "GET", "/auth/me", None, token)[0] != 200:
                failed.append(f"the {label}'s sign-in ended during its run")
        if hub.poll() is None and call(base, "GET", "/health")[0] != 200:
            failed.append("the hub is not healthy after fuzzing")
    finally:
        if hub.poll() is None:
            hub.send_signal(signal.SIGTERM)
            hub.wait(timeout=30)
        log.close()
    with open(os.path.join(work, "hub.log")) as f:
        panics = [line for line in f if "panic" in line]
    if panics:
        failed.append(f"{len(panics)} panic lines in the hub's log: {panics[:3]}")
    if failed:
        print(f"\napi-fuzz FAILED: {failed}; hub log: {work}/hub.log")
        sys.exit(1)
    print("\napi-fuzz: no 5xx answer, every signed-in run kept its sign-in, the hub stayed up and healthy")


if __name__ == "__main__":
    main()
