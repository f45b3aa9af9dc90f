-- Renews a client's lease and lists clients whose lease has run out (at most 16 per call).
-- KEYS[1] clients (zset: member client id, score = lease end in ms, server clock)
-- ARGV: clientId, leaseMs
local now = now_ms()
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 16)
return {'OK', unpack(expired)}
