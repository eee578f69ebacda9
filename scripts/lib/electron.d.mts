// Types for electron.mjs, which tests import.
export declare const root: string;
export declare function electronBinary(): string | null;
export declare function electronVersion(): string | null;
