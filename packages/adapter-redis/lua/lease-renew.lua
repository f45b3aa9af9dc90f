-- Renews a client's lease and lists clients whose lease has run out (at most 16 per call).
-- A client that renews a lease it already held (present = 1) and is no longer in the set was
-- reaped meanwhile (it was alive but stalled longer than its lease): the reply says 'REAPED', so
-- that the client learns that its undo records were applied and its registered waits dropped. It
-- gets a fresh lease either way.
-- KEYS[1] clients (zset: member client id, score = lease end in ms, server clock)
-- ARGV: clientId, leaseMs, present (1 when the caller held the lease before, else 0)
local now = now_ms()
local status = 'OK'
if ARGV[3] == '1' and not redis.call('ZSCORE', KEYS[1], ARGV[1]) then status = 'REAPED' end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 16)
return {status, unpack(expired)}
