package io.proxyfleet.admin;

import java.util.List;

/** Why a module is loaded to runtime; decides its epoch, whether peers are told, and what history records. */
sealed interface LoadOrigin {

    /** The load of every module at start-up. */
    record Boot() implements LoadOrigin {
    }

    /** An operator's {@code LOAD ... TO RUNTIME} (or a rollback), as {@code adminUser}. */
    record Local(String adminUser) implements LoadOrigin {
    }

    /**
     * Rows pulled from {@code peer} that hash, on the peer, to {@code advertised}: the peer's epoch is adopted only
     * when the checksum computed here is the same.
     */
    record Pulled(String peer, List<PeerChecksum> advertised) implements LoadOrigin {
        public Pulled {
            advertised = List.copyOf(advertised);
        }
    }

    LoadOrigin BOOT = new Boot();
}
