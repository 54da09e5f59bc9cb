#!/usr/bin/env python3
"""Drives a program on a pseudo-terminal, as a person at a keyboard would.

usage: pty_session.py STEPS_FILE -- COMMAND [ARGS...]

STEPS_FILE has one step per line:
    expect REGEX    wait (up to 10 s) until the screen output matches REGEX
    send TEXT       type TEXT; escapes: \\r \\n \\t \\x04 (Ctrl-D) \\x03 (Ctrl-C) \\x1b ...
    sleep SECONDS
The whole transcript goes to stdout. Exit status: the program's, or 124
when an expect timed out (the transcript so far is still printed).
"""
import os
import pty
import re
import select
import sys
import time


def main():
    steps_file, command = sys.argv[1], sys.argv[3:]
    steps = [line.rstrip("\n") for line in open(steps_file) if line.strip()]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    transcript = b""
    seen = 0          # expects search only output after the previous match

    def pump(timeout):
        nonlocal transcript
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(fd, 4096)
        except OSError:
            return False
        if not data:
            return False
        transcript += data
        return True

    status = None
    for step in steps:
        verb, _, arg = step.partition(" ")
        if verb == "expect":
            deadline = time.time() + 10
            pattern = re.compile(arg.encode(), re.S)
            while True:
                m = pattern.search(transcript, seen)
                if m:
                    seen = m.end()
                    break
                if time.time() > deadline or not pump(0.1):
                    if not pattern.search(transcript, seen):
                        sys.stdout.write(transcript.decode(errors="replace"))
                        sys.stdout.write("\n[pty_session: timed out expecting %r]\n" % arg)
                        os.kill(pid, 9)
                        sys.exit(124)
        elif verb == "send":
            os.write(fd, arg.encode().decode("unicode_escape").encode("latin-1"))
        elif verb == "sleep":
            end = time.time() + float(arg)
            while time.time() < end:
                pump(0.05)
    while pump(5):
        pass
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(transcript.decode(errors="replace"))
    sys.exit(os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode")
             else (status >> 8))


main()
