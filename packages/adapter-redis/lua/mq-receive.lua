-- msgrcv: takes the message that the type rule selects, or says BLOCK / ENOMSG (none, nowait) /
-- E2BIG (longer than maxBytes without noError: the message stays).
-- KEYS: meta, order, typ, data, types (as in mq-send.lua)
-- ARGV: id, rule ('any' | 'eq' | 'except' | 'le'), type (decimal, absolute value for 'le'),
--       noError (1/0), maxBytes, pid, uid, gid, nowait (1/0), tag
local meta, order, typ, data, types = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local tag = ARGV[10]
if not alive(meta, ARGV[1]) then return {'EINVAL'} end
if not permitted(meta, tonumber(ARGV[7]), tonumber(ARGV[8]), 4) then return {'EACCES'} end
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
  if ARGV[9] == '1' then return {'ENOMSG'} end
  return {'BLOCK'}
end
local payload = redis.call('HGET', data, seq)
local mtype = redis.call('HGET', typ, seq)
local len = string.len(payload)
local max = tonumber(ARGV[5])
if len > max then
  if ARGV[4] ~= '1' then return {'E2BIG'} end
  payload = string.sub(payload, 1, max)
end
redis.call('ZREM', order, seq)
redis.call('HDEL', typ, seq)
redis.call('HDEL', data, seq)
local perType = tag .. ':t:' .. mtype
redis.call('ZREM', perType, seq)
if redis.call('ZCARD', perType) == 0 then redis.call('ZREM', types, mtype) end
local f = redis.call('HMGET', meta, 'cbytes', 'qnum')
redis.call('HSET', meta, 'cbytes', tonumber(f[1]) - len, 'qnum', tonumber(f[2]) - 1, 'lrpid', ARGV[6], 'rtime', now_s())
redis.call('PUBLISH', tag .. ':ch', 'r')
return {'OK', mtype, payload}
