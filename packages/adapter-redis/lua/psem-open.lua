-- sem_open: the name (KEYS[1], '<tag>:name') holds the generation of the semaphore it names; the
-- semaphore itself is '<tag>:g<gen>' (value, mode, owner) with its open handles counted per client
-- in '<tag>:r<gen>', so that unlink removes the name while open handles keep working.
-- KEYS: name, tag. ARGV: create, exclusive, mode, initial, uid, gid, clientId, newGen
local name, tag = KEYS[1], KEYS[2]
local gen = redis.call('GET', name)
if gen then
  if ARGV[2] == '1' then return {'EEXIST'} end
  if not permitted(tag .. ':g' .. gen, tonumber(ARGV[5]), tonumber(ARGV[6]), 6) then return {'EACCES'} end
else
  if ARGV[1] ~= '1' then return {'ENOENT'} end
  gen = ARGV[8]
  redis.call('SET', name, gen)
  redis.call('HSET', tag .. ':g' .. gen, 'value', ARGV[4], 'mode', ARGV[3], 'uid', ARGV[5], 'gid', ARGV[6], 'cuid', ARGV[5], 'cgid', ARGV[6])
end
redis.call('HINCRBY', tag .. ':r' .. gen, ARGV[7], 1)
return {'OK', gen}
