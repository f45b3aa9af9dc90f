-- sem_getvalue. KEYS: name, tag. ARGV: gen
local value = redis.call('HGET', KEYS[2] .. ':g' .. ARGV[1], 'value')
if not value then return {'EINVAL'} end
return {'OK', value}
