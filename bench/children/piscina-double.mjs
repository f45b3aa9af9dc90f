// The piscina peer's task: the same x => x * 2.
export default (x) => x * 2;
