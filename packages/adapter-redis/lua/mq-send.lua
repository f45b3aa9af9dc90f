-- msgsnd: appends one typed message, or says BLOCK (queue full) / EAGAIN (full, nowait).
-- Sends of one handle are pipelined, yet reach the queue in call order: the first of them that
-- has to wait records its number in `blocked` (field = handle), and every later send of that
-- handle waits behind it (or fails with EAGAIN if nowait) until it is through or cancelled.
--
-- A message that a registered receiver can take (see mq-receive.lua) is handed to it here, in
-- the same atomic step, as msgsnd's pipelined_send does: it never enters the queue, is pushed to
-- the receiver's inbox list (which the receiving process pops with one blocking BLMPOP for all
-- its waits) and kept as the receiver's claim until acknowledged. A receiver whose maxBytes is too
-- small for it (without noError) is handed E2BIG instead and the message goes on, as on Linux.
-- KEYS: meta, order (zset of sequence numbers), typ (hash seq -> type), data (hash seq -> bytes),
--       types (zset of the types present, scored by type), blocked (hash handle -> send number),
--       claims, waiters (hash waiter -> registration), wq (list of waiters, oldest first)
-- ARGV: id, type (decimal string), payload, pid, uid, gid, nowait (1/0), tag, msgmax, handle, send number
local meta, order, typ, data, types, blocked = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local claims, waiters, wq = KEYS[7], KEYS[8], KEYS[9]
-- One read of everything the checks need: id (alive), permissions, limits.
local f = redis.call('HMGET', meta, 'uid', 'gid', 'cuid', 'cgid', 'mode', 'id', 'qbytes', 'cbytes', 'qnum')
if f[6] ~= ARGV[1] then return {'EINVAL'} end
if not granted_by(f, tonumber(ARGV[5]), tonumber(ARGV[6]), 2) then return {'EACCES'} end
local len = string.len(ARGV[3])
if len > tonumber(ARGV[9]) then return {'EINVAL'} end
local handle, number = ARGV[10], tonumber(ARGV[11])
local first = tonumber(redis.call('HGET', blocked, handle) or '-1')
local behind = first >= 0 and first < number
local qbytes, cbytes, qnum = tonumber(f[7]), tonumber(f[8]), tonumber(f[9])
-- Linux's test in do_msgsnd: the bytes and the message count must both stay within msg_qbytes.
if behind or len + cbytes > qbytes or qnum + 1 > qbytes then
  if ARGV[7] == '1' then return {'EAGAIN'} end
  if first < 0 then redis.call('HSET', blocked, handle, number) end
  return {'BLOCK'}
end
local seq = redis.call('HINCRBY', meta, 'seq', 1)
local function through()
  if first == number then
    -- The handle's waiting send is through: the sends behind it may go.
    redis.call('HDEL', blocked, handle)
    redis.call('PUBLISH', ARGV[8] .. ':ch', 'u')
  end
end
-- The registered receives, oldest first, read a few at a time (a send that suits the first
-- waiter, the common case, reads one batch). Entry: waiter, rule, type, noError, maxBytes, pid, inbox.
local mtype = tonumber(ARGV[2])
local at = 0
while true do
  local batch = redis.call('LRANGE', wq, at, at + 15)
  if #batch == 0 then break end
  local removed = 0
  for _, entry in ipairs(batch) do
    local w, rule, wanted, noerror, maxbytes, rpid, inbox = string.match(entry, '^(%S+) (%S+) (%S+) (%S+) (%S+) (%S+) (.+)$')
    wanted = tonumber(wanted)
    local suits = rule == 'any' or (rule == 'eq' and mtype == wanted) or (rule == 'except' and mtype ~= wanted) or (rule == 'le' and mtype <= wanted)
    if suits then
      redis.call('HDEL', waiters, w)
      redis.call('LREM', wq, 1, entry)
      removed = removed + 1
      if len > tonumber(maxbytes) and noerror ~= '1' then
        redis.call('RPUSH', inbox, w .. '\nE2BIG\n\n')
      else
        local payload = ARGV[3]
        redis.call('HSET', claims, w, seq .. ' ' .. ARGV[2] .. ' ' .. payload)
        if len > tonumber(maxbytes) then payload = string.sub(payload, 1, tonumber(maxbytes)) end
        redis.call('RPUSH', inbox, w .. '\nOK\n' .. ARGV[2] .. '\n' .. payload)
        local t = now_s()
        redis.call('HSET', meta, 'lspid', ARGV[4], 'stime', t, 'lrpid', rpid, 'rtime', t)
        through()
        return {'OK'}
      end
    end
  end
  at = at + #batch - removed
end
redis.call('ZADD', order, seq, seq)
redis.call('HSET', typ, seq, ARGV[2])
redis.call('HSET', data, seq, ARGV[3])
redis.call('ZADD', types, ARGV[2], ARGV[2])
redis.call('ZADD', ARGV[8] .. ':t:' .. ARGV[2], seq, seq)
redis.call('HSET', meta, 'cbytes', cbytes + len, 'qnum', qnum + 1, 'lspid', ARGV[4], 'stime', now_s())
redis.call('PUBLISH', ARGV[8] .. ':ch', 's' .. ARGV[2])
through()
return {'OK'}
