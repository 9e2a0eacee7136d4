/**
 * Test support for checking Java constants and struct layouts against C
 * headers: a C probe is compiled with {@code gcc -c} (64- or 32-bit) and the
 * numbers it recorded are read from the ELF object file. Nothing gcc builds
 * is ever executed, so the 32-bit checks run on kernels that cannot execute
 * 32-bit programs. Depends on no xenshim module, so {@code xenshim.api}'s own
 * tests can use it.
 */
module xenshim.cprobe {
    requires org.opentest4j;

    exports xenshim.cprobe;
}
