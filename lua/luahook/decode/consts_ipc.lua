-- Named values of the System V IPC syscalls, as data for
-- luahook.decode.values (same format as consts_fs). `octal` is the mask of
-- permission bits printed in octal after the names (IPC_CREAT|0600).
return {
    ipc_get = {
        octal = 0x1ff,
        { 0x200, "IPC_CREAT" }, { 0x400, "IPC_EXCL" }, { 0x800, "IPC_NOWAIT" },
    },
    shm_get = {
        octal = 0x1ff,
        { 0x200, "IPC_CREAT" }, { 0x400, "IPC_EXCL" }, { 0x800, "SHM_HUGETLB" },
        { 0x1000, "SHM_NORESERVE" },
    },
    -- IPC_64 (0x100) marks the new structure layout; printed first, as strace does
    sem_ctl = {
        field = { 0xff, { [0] = "IPC_RMID", "IPC_SET", "IPC_STAT", "IPC_INFO",
                          [11] = "GETPID", [12] = "GETVAL", [13] = "GETALL", [14] = "GETNCNT",
                          [15] = "GETZCNT", [16] = "SETVAL", [17] = "SETALL", [18] = "SEM_STAT",
                          [19] = "SEM_INFO", [20] = "SEM_STAT_ANY" }, last = true },
        { 0x100, "IPC_64" },
    },
    shm_ctl = {
        field = { 0xff, { [0] = "IPC_RMID", "IPC_SET", "IPC_STAT", "IPC_INFO",
                          [11] = "SHM_LOCK", [12] = "SHM_UNLOCK", [13] = "SHM_STAT",
                          [14] = "SHM_INFO", [15] = "SHM_STAT_ANY" }, last = true },
        { 0x100, "IPC_64" },
    },
    msg_ctl = {
        field = { 0xff, { [0] = "IPC_RMID", "IPC_SET", "IPC_STAT", "IPC_INFO",
                          [11] = "MSG_STAT", [12] = "MSG_INFO", [13] = "MSG_STAT_ANY" },
                  last = true },
        { 0x100, "IPC_64" },
    },
    shm_at = { zero = "0", { 0x1000, "SHM_RDONLY" }, { 0x2000, "SHM_RND" },
               { 0x4000, "SHM_REMAP" }, { 0x8000, "SHM_EXEC" } },
    ipc_msg_flags = { zero = "0", { 0x800, "IPC_NOWAIT" }, { 0x1000, "MSG_NOERROR" },
                  { 0x2000, "MSG_EXCEPT" }, { 0x4000, "MSG_COPY" } },
    ipc_key = { enum = { [0] = "IPC_PRIVATE" }, hex = true },
}
