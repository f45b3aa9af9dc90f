"""Python's multiprocessing peers: Pipe or Queue ping-pong of 64 bytes with a child process
(microseconds per round trip, after a warm-up); Queue throughput between two processes and
Pool(2).map of x * 2 (values or tasks per second)."""
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

def double(x):
    return x * 2

def produce(q, count):
    item = {"id": 1, "name": "item", "values": [1, 2, 3, 4, 5, 6, 7, 8]}
    for _ in range(count):
        q.put(item)
    q.put(None)

def consume(q, done):
    while q.get() is not None:
        pass
    done.put(True)

def main():
    kind, count = sys.argv[1], int(sys.argv[2])
    if kind == "queue-throughput":
        # One producer process, one consumer process, the same small object as a dict.
        q, done = mp.Queue(), mp.Queue()
        consumer = mp.Process(target=consume, args=(q, done))
        consumer.start()
        start = time.perf_counter_ns()
        producer = mp.Process(target=produce, args=(q, count))
        producer.start()
        done.get()
        elapsed = time.perf_counter_ns() - start
        producer.join(); consumer.join()
        print(count / (elapsed / 1e9))
        return
    if kind == "pool-map":
        with mp.Pool(2) as pool:
            pool.map(double, range(1000))  # warm-up
            start = time.perf_counter_ns()
            pool.map(double, range(count))
            elapsed = time.perf_counter_ns() - start
        print(count / (elapsed / 1e9))
        return
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
