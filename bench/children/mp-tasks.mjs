// Pool tasks of the bench.
export const double = (x) => x * 2;
