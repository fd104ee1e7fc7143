# Sum the bytes of the input memory (r1 = address, r2 = length).
# Run it: node bin/bpfkit.js run examples/sum.asm --mem-file examples/sum.mem
    r0 = 0
    r3 = r1
    r3 += r2                  # r3 = end of the input
loop:
    if r1 >= r3 goto done
    r4 = *(u8 *)(r1 + 0)
    r0 += r4
    r1 += 1
    goto loop
done:
    exit
