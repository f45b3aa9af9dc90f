-- mq_send: queues one message by priority, or answers BLOCK / EAGAIN (full) / EMSGSIZE.
-- KEYS: name, tag. ARGV: gen, priority, payload, nowait (1/0)
local tag, gen = KEYS[2], ARGV[1]
local object = tag .. ':g' .. gen
local f = redis.call('HMGET', object, 'maxmsg', 'msgsize', 'curmsgs')
if not f[1] then return {'EBADF'} end
if string.len(ARGV[3]) > tonumber(f[2]) then return {'EMSGSIZE'} end
if tonumber(f[3]) >= tonumber(f[1]) then
  if ARGV[4] == '1' then return {'EAGAIN'} end
  return {'BLOCK'}
end
if tonumber(f[3]) == 0 then
  -- mq_notify: a message arrives in the empty queue.
  local registration = redis.call('GET', tag .. ':n' .. gen)
  if registration then
    redis.call('DEL', tag .. ':n' .. gen)
    redis.call('SET', tag .. ':nf' .. gen, registration)
    redis.call('PUBLISH', tag .. ':ch', 'n' .. registration)
  end
end
local seq = redis.call('HINCRBY', object, 'seq', 1)
-- Highest priority first, then first in first out: (32767 - priority) * 2^32 + seq stays exact in a double.
local score = (32767 - tonumber(ARGV[2])) * 4294967296 + seq
redis.call('ZADD', tag .. ':q' .. gen, score, seq)
redis.call('HSET', tag .. ':d' .. gen, seq, ARGV[3])
redis.call('HSET', tag .. ':p' .. gen, seq, ARGV[2])
redis.call('HINCRBY', object, 'curmsgs', 1)
redis.call('PUBLISH', tag .. ':ch', 's')
return {'OK'}
