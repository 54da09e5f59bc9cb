-- The fields scripts add to objects luahook reuses from call to call (the
-- syscall object, a decoded call): each object keeps a list of the keys
-- added to it, so that reusing it clears those and leaves its own fields,
-- which are overwritten in place, alone. Clearing the whole table instead
-- would make every own field a new key again, costing more than the rest
-- of a call.
local new_table = require "table.new"

local rawset = rawset

local added = {}

--- An empty list of added keys (`n` counts them: `#` on a list emptied in
--- place would search for its end).
---@return table
function added.list()
    local keys = new_table(4, 1)
    keys.n = 0
    return keys
end

--- Sets `object[key]`, remembering `key` in `keys`.
function added.set(keys, object, key, value)
    local n = keys.n + 1
    keys[n], keys.n = key, n
    rawset(object, key, value)
end

--- Removes from `object` every key remembered in `keys`.
function added.clear(keys, object)
    for i = keys.n, 1, -1 do
        rawset(object, keys[i], nil)
        keys[i] = nil
    end
    keys.n = 0
end

return added
