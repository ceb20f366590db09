/** The `@devp2p/cli` version (a test keeps it equal to package.json's), printed by `devp2p --version`. */
export const CLI_VERSION = '0.0.0';
