-- Named values of the memory syscalls (mmap, mprotect, madvise, ...), as
-- data for luahook.decode.values (same format as consts_fs).
return {
    prot = {
        zero = "PROT_NONE",
        { 0x1, "PROT_READ" }, { 0x2, "PROT_WRITE" }, { 0x4, "PROT_EXEC" },
        { 0x8, "PROT_SEM" }, { 0x01000000, "PROT_GROWSDOWN" }, { 0x02000000, "PROT_GROWSUP" },
    },
    -- strace's order, which is not the bits' own
    map = {
        field = { 0xf, { "MAP_SHARED", "MAP_PRIVATE", "MAP_SHARED_VALIDATE" },
                  unknown = "MAP_???" },
        { 0x10, "MAP_FIXED" }, { 0x20, "MAP_ANONYMOUS" }, { 0x40, "MAP_32BIT" },
        { 0x4000, "MAP_NORESERVE" }, { 0x8000, "MAP_POPULATE" }, { 0x10000, "MAP_NONBLOCK" },
        { 0x100, "MAP_GROWSDOWN" }, { 0x800, "MAP_DENYWRITE" }, { 0x1000, "MAP_EXECUTABLE" },
        { 0x2000, "MAP_LOCKED" }, { 0x20000, "MAP_STACK" }, { 0x40000, "MAP_HUGETLB" },
        { 0x80000, "MAP_SYNC" }, { 0x4000000, "MAP_UNINITIALIZED" },
        { 0x100000, "MAP_FIXED_NOREPLACE" },
    },
    mremap = { zero = "0", { 0x1, "MREMAP_MAYMOVE" }, { 0x2, "MREMAP_FIXED" },
               { 0x4, "MREMAP_DONTUNMAP" } },
    madvise = {
        enum = {
            [0] = "MADV_NORMAL", "MADV_RANDOM", "MADV_SEQUENTIAL", "MADV_WILLNEED",
            "MADV_DONTNEED", [8] = "MADV_FREE", [9] = "MADV_REMOVE", [10] = "MADV_DONTFORK",
            [11] = "MADV_DOFORK", [12] = "MADV_MERGEABLE", [13] = "MADV_UNMERGEABLE",
            [14] = "MADV_HUGEPAGE", [15] = "MADV_NOHUGEPAGE", [16] = "MADV_DONTDUMP",
            [17] = "MADV_DODUMP", [18] = "MADV_WIPEONFORK", [19] = "MADV_KEEPONFORK",
            [20] = "MADV_COLD", [21] = "MADV_PAGEOUT", [22] = "MADV_POPULATE_READ",
            [23] = "MADV_POPULATE_WRITE", [100] = "MADV_HWPOISON", [101] = "MADV_SOFT_OFFLINE",
        },
        unknown = "MADV_???",
    },
    msync = { zero = "0", { 0x1, "MS_ASYNC" }, { 0x2, "MS_INVALIDATE" }, { 0x4, "MS_SYNC" } },
    mlockall = { zero = "0", { 0x1, "MCL_CURRENT" }, { 0x2, "MCL_FUTURE" }, { 0x4, "MCL_ONFAULT" } },
    mlock2 = { zero = "0", { 0x1, "MLOCK_ONFAULT" } },
}
