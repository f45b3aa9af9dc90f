// The worker backend arrives with its issue; this package is a placeholder until then.
export const placeholder = true;
