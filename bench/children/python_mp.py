"""Python's multiprocessing peers: Pipe or Queue ping-pong of 64 bytes with a child process.
Prints microseconds per round trip (after a warm-up)."""
import multiprocessing as mp
import sys
import time

def echo_pipe(conn):
    while True:
        msg = conn.recv_bytes()
        if not msg:
            return
        conn.send_bytes(msg)

def echo_queue(inbox, outbox):
    while True:
        msg = inbox.get()
        if msg is None:
            return
        outbox.put(msg)

def main():
    kind, count = sys.argv[1], int(sys.argv[2])
    ping = b"x" * 64
    if kind == "pipe":
        parent, child = mp.Pipe()
        proc = mp.Process(target=echo_pipe, args=(child,))
        proc.start()
        for _ in range(200):
            parent.send_bytes(ping); parent.recv_bytes()
        start = time.perf_counter_ns()
        for _ in range(count):
            parent.send_bytes(ping); parent.recv_bytes()
        elapsed = time.perf_counter_ns() - start
        parent.send_bytes(b"")
    else:
        inbox, outbox = mp.Queue(), mp.Queue()
        proc = mp.Process(target=echo_queue, args=(inbox, outbox))
        proc.start()
        for _ in range(200):
            inbox.put(ping); outbox.get()
        start = time.perf_counter_ns()
        for _ in range(count):
            inbox.put(ping); outbox.get()
        elapsed = time.perf_counter_ns() - start
        inbox.put(None)
    proc.join()
    print(elapsed / 1000 / count)

if __name__ == "__main__":
    main()
