-- The guest's memory as its syscalls shape it, for scripts/explain.lua:
-- the regions mmap, mmap2 and mremap made (address range, protection,
-- anonymous or backed by a file), cut by munmap, changed by mprotect, and
-- the heap that brk moves. Memory the program was loaded into before its
-- first syscall (its image, its stack, the dynamic loader) is not seen
-- here, so a region can be unknown; the kernel works in whole pages, and
-- so does this map.
local memmap = {}

local PAGE = 4096

---@class luahook.explain.Region
---@field start number first address
---@field stop number first address after it
---@field prot integer PROT_* bits
---@field file string? what a file-backed region maps (nil: anonymous)
---@field by string the call that made it

---@class luahook.explain.MemMap
---@field regions luahook.explain.Region[] sorted by address, never overlapping
---@field heap_start number? where the heap began (the first brk answer)
---@field heap_end number? where it ends now
---@field mapped table<string, number> bytes mapped by each kind: "anonymous", "file"
---@field by_file table<string, number> bytes mapped from each file
---@field unmapped number bytes given back with munmap
---@field calls integer mmap calls that succeeded
local Map = {}
Map.__index = Map

--- An empty map.
---@return luahook.explain.MemMap
function memmap.new()
    return setmetatable({ regions = {}, mapped = { anonymous = 0, file = 0 }, by_file = {},
                          unmapped = 0, calls = 0 }, Map)
end

--- `len` rounded up to whole pages, as the kernel counts a mapping.
---@param len number
---@return number
function memmap.pages(len)
    return math.ceil(len / PAGE) * PAGE
end

-- Removes [start, stop) from the map, keeping the parts of regions
-- around it; calls `touched(region, from, to)` for each part removed.
local function cut(self, start, stop, touched)
    local kept = {}
    for _, r in ipairs(self.regions) do
        if r.stop <= start or r.start >= stop then
            kept[#kept + 1] = r
        else
            if r.start < start then
                kept[#kept + 1] = { start = r.start, stop = start, prot = r.prot, file = r.file, by = r.by }
            end
            if touched then
                touched(r, math.max(r.start, start), math.min(r.stop, stop))
            end
            if r.stop > stop then
                kept[#kept + 1] = { start = stop, stop = r.stop, prot = r.prot, file = r.file, by = r.by }
            end
        end
    end
    self.regions = kept
end

local function insert(self, region)
    local list = self.regions
    local i = #list + 1
    while i > 1 and list[i - 1].start > region.start do
        i = i - 1
    end
    table.insert(list, i, region)
end

--- A new mapping of `len` bytes at `start` (what mmap answered), replacing
--- whatever was there (MAP_FIXED does that).
---@param start number
---@param len number
---@param prot integer
---@param file string? the file it maps; nil for anonymous memory
---@param by string the call's name
function Map:map(start, len, prot, file, by)
    local stop = start + memmap.pages(len)
    cut(self, start, stop)
    insert(self, { start = start, stop = stop, prot = prot, file = file, by = by })
    local kind = file and "file" or "anonymous"
    self.mapped[kind] = self.mapped[kind] + (stop - start)
    if file then
        self.by_file[file] = (self.by_file[file] or 0) + (stop - start)
    end
    self.calls = self.calls + 1
end

--- munmap: the range is no longer mapped.
---@param start number
---@param len number
function Map:unmap(start, len)
    cut(self, start, start + memmap.pages(len))
    self.unmapped = self.unmapped + memmap.pages(len)
end

--- mprotect: the parts of known regions in the range get protection `prot`.
---@param start number
---@param len number
---@param prot integer
function Map:protect(start, len, prot)
    local parts = {}
    cut(self, start, start + memmap.pages(len), function(r, from, to)
        parts[#parts + 1] = { start = from, stop = to, prot = prot, file = r.file, by = r.by }
    end)
    for _, p in ipairs(parts) do insert(self, p) end
end

--- mremap: the region at `old` moves to `new` with `len` bytes.
---@param old number
---@param old_len number
---@param new number
---@param len number
function Map:remap(old, old_len, new, len)
    local r = self:region_at(old)
    cut(self, old, old + memmap.pages(old_len))
    cut(self, new, new + memmap.pages(len))
    insert(self, { start = new, stop = new + memmap.pages(len), prot = r and r.prot or 0,
                   file = r and r.file, by = "mremap" })
end

--- brk answered `value`: the heap now ends there (its start is the first
--- answer seen).
---@param value number
function Map:set_break(value)
    self.heap_start = self.heap_start or value
    self.heap_end = value
end

--- The region holding `addr`, or nil.
---@param addr number
---@return luahook.explain.Region?
function Map:region_at(addr)
    for _, r in ipairs(self.regions) do
        if addr >= r.start and addr < r.stop then
            return r
        end
    end
    return nil
end

--- Whether `addr` is in the heap brk made.
---@param addr number
---@return boolean
function Map:in_heap(addr)
    return self.heap_start ~= nil and addr >= self.heap_start and addr < self.heap_end
end

--- Bytes mapped now, in total and by kind ("anonymous", "file"), and the
--- number of regions.
---@return number total
---@return table<string, number> by_kind
---@return integer regions
function Map:live()
    local total, by_kind = 0, { anonymous = 0, file = 0 }
    for _, r in ipairs(self.regions) do
        local kind = r.file and "file" or "anonymous"
        by_kind[kind] = by_kind[kind] + (r.stop - r.start)
        total = total + (r.stop - r.start)
    end
    return total, by_kind, #self.regions
end

--- Starts the counts afresh, keeping the regions and the heap (a forked
--- child inherits its parent's memory but not its history).
function Map:reset_counts()
    self.mapped = { anonymous = 0, file = 0 }
    self.by_file = {}
    self.unmapped = 0
    self.calls = 0
end

return memmap
