// Bundle entry of the `deepen` command (out/native/cli.js).
import { runCli } from './cli/main';

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`deepen: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
