#!/usr/bin/env python3
"""Freezes every thread of a process except the ones named KEEP (their
/proc/PID/task/TID/comm) for SECONDS, with ptrace (PTRACE_SEIZE +
PTRACE_INTERRUPT per thread: one thread stops, the rest of the process runs
on, which SIGSTOP cannot do). Prints "frozen N T" once they are all stopped
and "thawed T" just before detaching (T: CLOCK_MONOTONIC seconds). Usage: freeze_threads.py PID SECONDS KEEP"""
import ctypes
import os
import sys
import time

PTRACE_DETACH, PTRACE_SEIZE, PTRACE_INTERRUPT = 17, 0x4206, 0x4207
WALL = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long

pid, seconds, keep = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
frozen = []
kept = 0
for tid in sorted(int(t) for t in os.listdir("/proc/%d/task" % pid)):
    with open("/proc/%d/task/%d/comm" % (pid, tid)) as f:
        if f.read().strip() == keep:
            kept += 1
            continue
    if libc.ptrace(PTRACE_SEIZE, tid, None, None) != 0:
        sys.exit("PTRACE_SEIZE %d: %s" % (tid, os.strerror(ctypes.get_errno())))
    libc.ptrace(PTRACE_INTERRUPT, tid, None, None)
    os.waitpid(tid, WALL)
    frozen.append(tid)
if kept == 0:
    sys.exit("no thread named %s in %d" % (keep, pid))
print("frozen %d %.3f" % (len(frozen), time.monotonic()), flush=True)
time.sleep(seconds)
print("thawed %.3f" % time.monotonic(), flush=True)
for tid in frozen:
    libc.ptrace(PTRACE_DETACH, tid, None, None)
