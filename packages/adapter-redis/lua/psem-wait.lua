-- sem_wait / sem_trywait: takes one unit, or answers BLOCK / EAGAIN (nowait).
-- KEYS: name, tag. ARGV: gen, nowait (1/0)
local object = KEYS[2] .. ':g' .. ARGV[1]
local value = tonumber(redis.call('HGET', object, 'value') or '-1')
if value < 0 then return {'EINVAL'} end
if value == 0 then
  if ARGV[2] == '1' then return {'EAGAIN'} end
  return {'BLOCK'}
end
redis.call('HSET', object, 'value', value - 1)
return {'OK'}
