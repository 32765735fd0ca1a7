package dev.offramp.kernels;

/**
 * Picks the vector or the scalar kernels once, at class-load time, and says why on stderr when it falls back.
 * The kernels here touch the Vector API only after this check, so they (and their tests) run without
 * {@code --add-modules jdk.incubator.vector}; the model's layers (LayerNorm, GELU, attention) use it directly and
 * need the module, which {@code Offramp.load} checks with a message that names the flag.
 */
final class KernelConfig {
    private KernelConfig() {}

    /** True when the Vector API kernels are used; false forces every scalar twin (-Dofframp.vector=false). */
    static final boolean VECTOR = decide();

    private static boolean decide() {
        String prop = System.getProperty("offramp.vector", "true").trim();
        if (prop.equalsIgnoreCase("false") || prop.equals("0")) {
            System.err.println("offramp: Vector API disabled by -Dofframp.vector=" + prop + "; using scalar kernels");
            return false;
        }
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            System.err.println("offramp: the Vector API module is not loaded; using scalar kernels (several times "
                    + "slower). Start java with --add-modules jdk.incubator.vector");
            return false;
        }
        try {
            int lanes = VectorSpeciesProbe.preferredLanes();
            if (lanes < 4) {
                System.err.println("offramp: the preferred vector species has only " + lanes
                        + " float lanes on this CPU; using scalar kernels");
                return false;
            }
            return true;
        } catch (LinkageError e) {
            System.err.println("offramp: the Vector API failed to load (" + e + "); using scalar kernels");
            return false;
        }
    }

    /** Separate class so that a missing module shows up as a LinkageError here and not in the caller. */
    private static final class VectorSpeciesProbe {
        static int preferredLanes() {
            return jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
        }
    }
}
