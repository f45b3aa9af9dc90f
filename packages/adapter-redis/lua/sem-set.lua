-- semctl(IPC_SET): mode, uid, gid ('' = unchanged). KEYS[1] meta. ARGV: id, uid, mode, newUid, newGid
local meta = KEYS[1]
if not alive(meta, ARGV[1]) then return {'EINVAL'} end
if not is_owner(meta, tonumber(ARGV[2])) then return {'EPERM'} end
if ARGV[3] ~= '' then redis.call('HSET', meta, 'mode', ARGV[3]) end
if ARGV[4] ~= '' then redis.call('HSET', meta, 'uid', ARGV[4]) end
if ARGV[5] ~= '' then redis.call('HSET', meta, 'gid', ARGV[5]) end
redis.call('HSET', meta, 'ctime', now_s())
return {'OK'}
