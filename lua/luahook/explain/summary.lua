-- The closing summary of scripts/explain.lua: what one process did, from
-- its luahook.explain.Process: the files it named and how, the bytes that
-- went through each descriptor, its memory, its children and its end.
local bit = require "bit"
local fillers = require "luahook.explain.fillers"
local format = require "luahook._guest.format"

local summary = {}

local bytes = fillers.bytes

local MAX_REGIONS = 20 -- regions listed at the end, at most

-- PROT_* bits as ls -l writes permissions: "r-x".
local function protection(prot)
    return (bit.band(prot, 1) ~= 0 and "r" or "-") .. (bit.band(prot, 2) ~= 0 and "w" or "-")
        .. (bit.band(prot, 4) ~= 0 and "x" or "-")
end

local function plural(n, one, many)
    return n .. " " .. (n == 1 and one or many)
end

local function files_part(out, fds)
    if #fds.file_order == 0 then
        out[#out + 1] = "  files named: none"
        return
    end
    out[#out + 1] = "  files named (and the calls that named them):"
    for _, path in ipairs(fds.file_order) do
        local uses = fds.files[path]
        local parts = {}
        for i, how in ipairs(uses) do
            local n = uses.counts[how]
            parts[i] = n > 1 and (how .. " x" .. n) or how
        end
        out[#out + 1] = "    " .. path .. ": " .. table.concat(parts, ", ")
    end
end

-- "wrote 83 bytes in 1 call, read nothing" for a descriptor's record.
local function traffic(r)
    local parts = {}
    if r.writes > 0 then
        parts[#parts + 1] = "wrote " .. bytes(r.written) .. " in " .. plural(r.writes, "call", "calls")
    end
    if r.reads > 0 then
        parts[#parts + 1] = "read " .. bytes(r.read) .. " in " .. plural(r.reads, "call", "calls")
    end
    if #parts == 0 then
        return "no bytes read or written"
    end
    return table.concat(parts, ", ")
end

local function descriptors_part(out, fds)
    local used = fds:used()
    if #used == 0 then
        out[#out + 1] = "  descriptors: none used"
        return
    end
    out[#out + 1] = "  descriptors (bytes through each):"
    for _, r in ipairs(used) do
        local fate = "still open at the end"
        if r.replaced_by then
            fate = "replaced by " .. r.replaced_by
        elseif r.closed then
            fate = "closed"
        end
        out[#out + 1] = string.format("    fd %d, %s (%s): %s; %s", r.fd, r.what, r.by, traffic(r), fate)
    end
end

local function memory_part(out, maps)
    out[#out + 1] = "  memory:"
    if maps.heap_start then
        out[#out + 1] = string.format("    heap (brk): from %s to %s, %s", format.hex(maps.heap_start),
                                      format.hex(maps.heap_end), bytes(maps.heap_end - maps.heap_start))
    else
        out[#out + 1] = "    heap (brk): not used"
    end
    if maps.calls == 0 then
        out[#out + 1] = "    mmap: not used"
        return
    end
    local total = maps.mapped.anonymous + maps.mapped.file
    out[#out + 1] = string.format("    mmap: %s mapped %s in all, in whole pages: anonymous %s, from files %s",
                                  plural(maps.calls, "call", "calls"), bytes(total),
                                  bytes(maps.mapped.anonymous), bytes(maps.mapped.file))
    local files = {}
    for file in pairs(maps.by_file) do files[#files + 1] = file end
    table.sort(files)
    for _, file in ipairs(files) do
        out[#out + 1] = "      " .. file .. ": " .. bytes(maps.by_file[file])
    end
    if maps.unmapped > 0 then
        out[#out + 1] = "    munmap gave back " .. bytes(maps.unmapped)
    end
    local live, by_kind, regions = maps:live()
    out[#out + 1] = string.format("    mapped at the end: %s, %s: anonymous %s, from files %s "
                                  .. "(besides the program's own image and stack)",
                                  plural(regions, "region", "regions"), bytes(live), bytes(by_kind.anonymous),
                                  bytes(by_kind.file))
    for i, r in ipairs(maps.regions) do
        if i > MAX_REGIONS then
            out[#out + 1] = "      ... and " .. plural(regions - MAX_REGIONS, "more region", "more regions")
            break
        end
        out[#out + 1] = string.format("      %s-%s %s %s, %s (%s)", format.hex(r.start), format.hex(r.stop),
                                      protection(r.prot), bytes(r.stop - r.start), r.file or "anonymous", r.by)
    end
end

local function children_part(out, p)
    if #p.children == 0 then
        out[#out + 1] = "  child processes: none"
    else
        out[#out + 1] = "  child processes:"
        for _, child in ipairs(p.children) do
            out[#out + 1] = string.format("    %d (%s): %s", child.pid, child.by,
                                          child.status or "no wait reported how it ended")
        end
    end
    if p.threads > 0 then
        out[#out + 1] = "  threads created: " .. p.threads
    end
end

--- The summary of process state `p` as text (lines ending in "\n").
---@param p luahook.explain.Process
---@return string
function summary.text(p)
    local out = { string.format("explain: summary of %s %d", p.forked and "forked child process" or "process", p.pid) }
    files_part(out, p.fds)
    descriptors_part(out, p.fds)
    memory_part(out, p.maps)
    children_part(out, p)
    out[#out + 1] = "  end: " .. (p.ending or "no exit call seen (killed by a signal, or still running at exec)")
    return table.concat(out, "\n") .. "\n"
end

return summary
