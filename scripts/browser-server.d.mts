// Types of browser-server.mjs for the TypeScript tests that import it.
export declare const browserModules: Readonly<Record<string, string>>;
export declare function resolveBareSpecifiers(code: string): string;
export interface BrowserServer {
  readonly url: string;
  close(): Promise<void>;
}
export declare function startBrowserServer(options?: { port?: number; index?: string; isolate?: boolean }): Promise<BrowserServer>;
