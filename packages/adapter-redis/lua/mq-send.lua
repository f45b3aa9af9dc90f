-- msgsnd: appends one typed message, or says BLOCK (queue full) / EAGAIN (full, nowait).
-- Sends of one handle are pipelined, yet reach the queue in call order: the first of them that
-- has to wait records its number in `blocked` (field = handle), and every later send of that
-- handle waits behind it (or fails with EAGAIN if nowait) until it is through or cancelled.
-- KEYS: meta, order (zset of sequence numbers), typ (hash seq -> type), data (hash seq -> bytes),
--       types (zset of the types present, scored by type), blocked (hash handle -> send number)
-- ARGV: id, type (decimal string), payload, pid, uid, gid, nowait (1/0), tag, msgmax, handle, send number
local meta, order, typ, data, types, blocked = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
if not alive(meta, ARGV[1]) then return {'EINVAL'} end
if not permitted(meta, tonumber(ARGV[5]), tonumber(ARGV[6]), 2) then return {'EACCES'} end
local len = string.len(ARGV[3])
if len > tonumber(ARGV[9]) then return {'EINVAL'} end
local handle, number = ARGV[10], tonumber(ARGV[11])
local first = tonumber(redis.call('HGET', blocked, handle) or '-1')
local behind = first >= 0 and first < number
local f = redis.call('HMGET', meta, 'qbytes', 'cbytes', 'qnum')
local qbytes, cbytes, qnum = tonumber(f[1]), tonumber(f[2]), tonumber(f[3])
-- Linux's test in do_msgsnd: the bytes and the message count must both stay within msg_qbytes.
if behind or len + cbytes > qbytes or qnum + 1 > qbytes then
  if ARGV[7] == '1' then return {'EAGAIN'} end
  if first < 0 then redis.call('HSET', blocked, handle, number) end
  return {'BLOCK'}
end
local seq = redis.call('HINCRBY', meta, 'seq', 1)
redis.call('ZADD', order, seq, seq)
redis.call('HSET', typ, seq, ARGV[2])
redis.call('HSET', data, seq, ARGV[3])
redis.call('ZADD', types, ARGV[2], ARGV[2])
redis.call('ZADD', ARGV[8] .. ':t:' .. ARGV[2], seq, seq)
redis.call('HSET', meta, 'cbytes', cbytes + len, 'qnum', qnum + 1, 'lspid', ARGV[4], 'stime', now_s())
redis.call('PUBLISH', ARGV[8] .. ':ch', 's' .. ARGV[2])
if first == number then
  -- The handle's waiting send is through: the sends behind it may go.
  redis.call('HDEL', blocked, handle)
  redis.call('PUBLISH', ARGV[8] .. ':ch', 'u')
end
return {'OK'}
