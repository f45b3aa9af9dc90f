-- msgsnd, for one or more sends of one handle (the sends a handle made in one tick travel in one
-- call: one script run per batch instead of one per message). Each send appends one typed
-- message, or says BLOCK (queue full) / EAGAIN (full, nowait), exactly as if the sends had run one
-- after the other in call order.
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
-- ARGV: id, pid, uid, gid, tag, msgmax, handle, then per send: type (decimal string), payload,
--       send number, nowait (1/0)
-- Reply: 'OK', then one status per send ('OK', 'BLOCK', 'EAGAIN', 'EINVAL', 'EACCES').
local meta, order, typ, data, types, blocked = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local claims, waiters, wq = KEYS[7], KEYS[8], KEYS[9]
local tag, msgmax, handle = ARGV[5], tonumber(ARGV[6]), ARGV[7]
local sends = (#ARGV - 7) / 4
local out = {'OK'}
-- One read of everything the checks need: id (alive), permissions, limits, the next sequence number.
local f = redis.call('HMGET', meta, 'uid', 'gid', 'cuid', 'cgid', 'mode', 'id', 'qbytes', 'cbytes', 'qnum', 'seq')
if f[6] ~= ARGV[1] then
  for i = 1, sends do out[i + 1] = 'EINVAL' end
  return out
end
if not granted_by(f, tonumber(ARGV[3]), tonumber(ARGV[4]), 2) then
  for i = 1, sends do out[i + 1] = 'EACCES' end
  return out
end
local qbytes, cbytes, qnum, seq = tonumber(f[7]), tonumber(f[8]), tonumber(f[9]), tonumber(f[10] or '0')
local first = tonumber(redis.call('HGET', blocked, handle) or '-1')
local sent, handed, rpid = false, false, nil
-- The message's type as a number (for the rules) and as the client's decimal text (for keys,
-- claims and deliveries: Lua writes a number of 10^15 or more as '1e+15', which would name
-- another type's key).
local mtype, mtypeText, payload, len
-- What hand_over decides is written once at the end (one command per key instead of one per
-- message): the waiters' registrations to drop, their claims, and each inbox's deliveries in order.
local unregistered, claimed, deliveries, inboxes = {}, {}, {}, {}
-- The messages that go into the queue are written at the end too (one command per key, and one
-- notice per type, instead of five commands and a notice per message): nothing in this script reads
-- the queue's sets. Per-type sets: perType[mtypeText] = {seq, seq, ...} (score = member = seq), in the
-- order types first appear (newTypes).
local queuedOrder, queuedTyp, queuedData, perType, newTypes = {}, {}, {}, {}, {}
local function enqueue()
  queuedOrder[#queuedOrder + 1] = seq
  queuedOrder[#queuedOrder + 1] = seq
  queuedTyp[#queuedTyp + 1] = seq
  queuedTyp[#queuedTyp + 1] = mtypeText
  queuedData[#queuedData + 1] = seq
  queuedData[#queuedData + 1] = payload
  push_grouped(perType, newTypes, mtypeText, seq, seq)
end
-- No receive registers while this script runs: once `wq` is seen empty, no later send of the
-- batch reads it again.
local noWaiters = false
local function deliver(inbox, element)
  push_grouped(deliveries, inboxes, inbox, element)
end
-- The registered receives, oldest first, read a few at a time (a send that suits the first
-- waiter, the common case, reads one batch). Entry: waiter, rule, type, noError, maxBytes, pid, inbox.
-- True when the message went to a waiter.
local function hand_over()
  local at = 0
  while true do
    local batch = redis.call('LRANGE', wq, at, at + 15)
    if #batch == 0 then
      if at == 0 then noWaiters = true end
      return false
    end
    local removed = 0
    for _, entry in ipairs(batch) do
      local w, rule, wanted, noerror, maxbytes, wpid, inbox = string.match(entry, '^(%S+) (%S+) (%S+) (%S+) (%S+) (%S+) (.+)$')
      wanted = tonumber(wanted)
      local suits = rule == 'any' or (rule == 'eq' and mtype == wanted) or (rule == 'except' and mtype ~= wanted) or (rule == 'le' and mtype <= wanted)
      if suits then
        unregistered[#unregistered + 1] = w
        redis.call('LREM', wq, 1, entry)
        removed = removed + 1
        if len > tonumber(maxbytes) and noerror ~= '1' then
          deliver(inbox, w .. '\nE2BIG\n\n')
        else
          claimed[#claimed + 1] = w
          claimed[#claimed + 1] = seq .. ' ' .. mtypeText .. ' ' .. payload
          local given = payload
          if len > tonumber(maxbytes) then given = string.sub(payload, 1, tonumber(maxbytes)) end
          deliver(inbox, w .. '\nOK\n' .. mtypeText .. '\n' .. given)
          rpid = wpid
          return true
        end
      end
    end
    at = at + #batch - removed
  end
end
for i = 1, sends do
  local base = 7 + (i - 1) * 4
  mtypeText, payload = ARGV[base + 1], ARGV[base + 2]
  mtype = tonumber(mtypeText)
  local number, nowait = tonumber(ARGV[base + 3]), ARGV[base + 4] == '1'
  len = string.len(payload)
  local status = 'OK'
  local behind = first >= 0 and first < number
  if len > msgmax then
    status = 'EINVAL'
  elseif behind or len + cbytes > qbytes or qnum + 1 > qbytes then
    -- Linux's test in do_msgsnd: the bytes and the message count must both stay within msg_qbytes.
    if nowait then
      status = 'EAGAIN'
    else
      status = 'BLOCK'
      if first < 0 then
        first = number
        redis.call('HSET', blocked, handle, number)
      end
    end
  else
    seq = seq + 1
    sent = true
    if not noWaiters and hand_over() then
      handed = true
    else
      enqueue()
      cbytes, qnum = cbytes + len, qnum + 1
    end
    if first == number then
      -- The handle's waiting send is through: the sends behind it may go.
      first = -1
      redis.call('HDEL', blocked, handle)
      redis.call('PUBLISH', tag .. ':ch', 'u')
    end
  end
  out[i + 1] = status
end
bulk('HDEL', waiters, unregistered)
bulk('HSET', claims, claimed)
for _, inbox in ipairs(inboxes) do bulk('RPUSH', inbox, deliveries[inbox]) end
if #newTypes > 0 then
  bulk('ZADD', order, queuedOrder)
  bulk('HSET', typ, queuedTyp)
  bulk('HSET', data, queuedData)
  local typeScores = {}
  for _, t in ipairs(newTypes) do
    typeScores[#typeScores + 1] = t
    typeScores[#typeScores + 1] = t
    bulk('ZADD', tag .. ':t:' .. t, perType[t])
  end
  bulk('ZADD', types, typeScores)
  -- Receivers without an inbox wait for these notices (one per type present in the batch).
  for _, t in ipairs(newTypes) do redis.call('PUBLISH', tag .. ':ch', 's' .. t) end
end
if sent then
  local t = now_s()
  if handed then
    redis.call('HSET', meta, 'seq', seq, 'cbytes', cbytes, 'qnum', qnum, 'lspid', ARGV[2], 'stime', t, 'lrpid', rpid, 'rtime', t)
  else
    redis.call('HSET', meta, 'seq', seq, 'cbytes', cbytes, 'qnum', qnum, 'lspid', ARGV[2], 'stime', t)
  end
end
return out
