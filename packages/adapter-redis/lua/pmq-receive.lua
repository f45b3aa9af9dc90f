-- mq_receive: takes the oldest message of the highest priority, or answers BLOCK / EAGAIN (empty).
-- KEYS: name, tag. ARGV: gen, nowait (1/0)
local tag, gen = KEYS[2], ARGV[1]
local object = tag .. ':g' .. gen
if redis.call('EXISTS', object) == 0 then return {'EBADF'} end
local seq = redis.call('ZRANGE', tag .. ':q' .. gen, 0, 0)[1]
if not seq then
  if ARGV[2] == '1' then return {'EAGAIN'} end
  return {'BLOCK'}
end
local payload = redis.call('HGET', tag .. ':d' .. gen, seq)
local priority = redis.call('HGET', tag .. ':p' .. gen, seq)
redis.call('ZREM', tag .. ':q' .. gen, seq)
redis.call('HDEL', tag .. ':d' .. gen, seq)
redis.call('HDEL', tag .. ':p' .. gen, seq)
redis.call('HINCRBY', object, 'curmsgs', -1)
redis.call('PUBLISH', tag .. ':ch', 'r')
return {'OK', priority, payload}
