/**
 * `opencx vxml run URL|FILE [--input X]...`: runs a VoiceXML application in the terminal, prompts
 * printed as text, each collection answered by the next input (keys only → DTMF, else speech).
 * For developing applications without a phone.
 */
import { describeError } from '../lib/index.js';

export const VXML_USAGE = `
VoiceXML applications in the terminal:
  opencx vxml run URL|FILE [--input X]...   run an application; prompts are printed, each
                                            collection takes the next --input (0-9 * # A-D: DTMF,
                                            anything else: what the caller says)
`;

export function isVxmlCommand(argv: string[]): boolean {
  return argv[0] === 'vxml';
}

export async function runVxmlCli(argv: string[], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  const [, action, ...rest] = argv;
  if (action !== 'run') {
    process.stderr.write(`opencx: vxml ${action ?? ''}: unknown action\n${VXML_USAGE}`);
    return 2;
  }
  const inputs: string[] = [];
  let target: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (arg === '--input' || arg === '-i') {
      const value = rest[++i];
      if (value === undefined) {
        process.stderr.write('opencx: --input needs a value\n');
        return 2;
      }
      inputs.push(value);
    } else if (arg.startsWith('--input=')) inputs.push(arg.slice('--input='.length));
    else if (arg.startsWith('-')) {
      process.stderr.write(`opencx: vxml run: unknown option ${arg}\n${VXML_USAGE}`);
      return 2;
    } else if (target === undefined) target = arg;
    else {
      process.stderr.write(`opencx: vxml run takes one URL or file, got also ${arg}\n`);
      return 2;
    }
  }
  if (target === undefined) {
    process.stderr.write(`opencx: vxml run needs a URL or a file\n${VXML_USAGE}`);
    return 2;
  }
  try {
    const { runInTerminal } = await import('../mcp/index.js');
    const result = await runInTerminal({ url: target, inputs, out });
    return result.reason === 'error' ? 1 : 0;
  } catch (err) {
    process.stderr.write(`opencx: vxml run: ${describeError(err)}\n`);
    return 1;
  }
}
