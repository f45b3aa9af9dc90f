-- msgrcv: takes the message that the type rule selects, or says BLOCK / ENOMSG (none, nowait) /
-- E2BIG (longer than maxBytes without noError: the message stays).
--
-- No message is lost to a reply that never arrives (the server or the link died after the script
-- ran): a taken message is kept as a claim ('<handle>:<request>' -> seq, type, bytes) until the
-- handle's next call acknowledges the request; a request whose reply the client never got is
-- reported as lost, and its message goes back into the queue at its old place.
--
-- A receive that would block and names an inbox registers instead (waiter '<handle>:<request>'
-- in `waiters`, its entry appended to `wq`): the next suitable send hands it its message (mq-send.lua).
-- KEYS: meta, order, typ, data, types (as in mq-send.lua), claims, waiters, wq
-- ARGV: id, rule ('any' | 'eq' | 'except' | 'le'), type (decimal, absolute value for 'le'),
--       noError (1/0), maxBytes, pid, uid, gid, nowait (1/0), tag, handle, request number,
--       acknowledged requests (comma-separated), lost requests (comma-separated), inbox ('' none)
local meta, order, typ, data, types, claims = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local waiters, wq = KEYS[7], KEYS[8]
local tag = ARGV[10]
local f = redis.call('HMGET', meta, 'uid', 'gid', 'cuid', 'cgid', 'mode', 'id')
if f[6] ~= ARGV[1] then return {'EINVAL'} end
local handle = ARGV[11]
for n in string.gmatch(ARGV[13], '[^,]+') do redis.call('HDEL', claims, handle .. ':' .. n) end
local settled = {}
for n in string.gmatch(ARGV[14], '[^,]+') do
  -- A lost request may still be registered: it waits no more.
  local entry = redis.call('HGET', waiters, handle .. ':' .. n)
  if entry then
    redis.call('HDEL', waiters, handle .. ':' .. n)
    redis.call('LREM', wq, 1, entry)
  end
  local claim = redis.call('HGET', claims, handle .. ':' .. n)
  if claim then
    local s1 = string.find(claim, ' ', 1, true)
    local s2 = string.find(claim, ' ', s1 + 1, true)
    local cseq, ctype, cdata = string.sub(claim, 1, s1 - 1), string.sub(claim, s1 + 1, s2 - 1), string.sub(claim, s2 + 1)
    redis.call('ZADD', order, cseq, cseq)
    redis.call('HSET', typ, cseq, ctype)
    redis.call('HSET', data, cseq, cdata)
    redis.call('ZADD', types, ctype, ctype)
    redis.call('ZADD', tag .. ':t:' .. ctype, cseq, cseq)
    redis.call('HINCRBY', meta, 'cbytes', string.len(cdata))
    redis.call('HINCRBY', meta, 'qnum', 1)
    redis.call('HDEL', claims, handle .. ':' .. n)
    redis.call('PUBLISH', tag .. ':ch', 's' .. ctype)
  end
  settled[#settled + 1] = n
end
local lostSettled = table.concat(settled, ',')
if not granted_by(f, tonumber(ARGV[7]), tonumber(ARGV[8]), 4) then return {'EACCES'} end
local rule, wanted = ARGV[2], ARGV[3]
local seq
if rule == 'any' then
  seq = redis.call('ZRANGE', order, 0, 0)[1]
elseif rule == 'eq' then
  seq = redis.call('ZRANGE', tag .. ':t:' .. wanted, 0, 0)[1]
elseif rule == 'le' then
  local lowest = redis.call('ZRANGEBYSCORE', types, '-inf', wanted, 'LIMIT', 0, 1)[1]
  if lowest then seq = redis.call('ZRANGE', tag .. ':t:' .. lowest, 0, 0)[1] end
else
  -- MSG_EXCEPT: the first message of any other type. Walk the queue in order; only messages of
  -- the excluded type are skipped.
  local start = 0
  while seq == nil do
    local batch = redis.call('ZRANGE', order, start, start + 63)
    if #batch == 0 then break end
    for _, candidate in ipairs(batch) do
      if redis.call('HGET', typ, candidate) ~= wanted then seq = candidate break end
    end
    start = start + 64
  end
end
if seq == nil then
  if ARGV[9] == '1' then return {'ENOMSG', lostSettled} end
  if ARGV[15] ~= '' then
    local w = handle .. ':' .. ARGV[12]
    local entry = w .. ' ' .. rule .. ' ' .. wanted .. ' ' .. ARGV[4] .. ' ' .. ARGV[5] .. ' ' .. ARGV[6] .. ' ' .. ARGV[15]
    redis.call('HSET', waiters, w, entry)
    redis.call('RPUSH', wq, entry)
  end
  return {'BLOCK', lostSettled}
end
local payload = redis.call('HGET', data, seq)
local mtype = redis.call('HGET', typ, seq)
local len = string.len(payload)
local max = tonumber(ARGV[5])
if len > max then
  if ARGV[4] ~= '1' then return {'E2BIG', lostSettled} end
end
redis.call('HSET', claims, handle .. ':' .. ARGV[12], seq .. ' ' .. mtype .. ' ' .. payload)
if len > max then payload = string.sub(payload, 1, max) end
redis.call('ZREM', order, seq)
redis.call('HDEL', typ, seq)
redis.call('HDEL', data, seq)
local perType = tag .. ':t:' .. mtype
redis.call('ZREM', perType, seq)
if redis.call('ZCARD', perType) == 0 then redis.call('ZREM', types, mtype) end
local q = redis.call('HMGET', meta, 'cbytes', 'qnum')
redis.call('HSET', meta, 'cbytes', tonumber(q[1]) - len, 'qnum', tonumber(q[2]) - 1, 'lrpid', ARGV[6], 'rtime', now_s())
redis.call('PUBLISH', tag .. ':ch', 'r')
return {'OK', lostSettled, mtype, payload}
