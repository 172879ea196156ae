#!/usr/bin/env node
// @ts-nocheck
// The `resource-tokens` command. One subcommand for now: `doctor`, which tells what a provider supports
// for this library and which configuration to use (docs/PROVIDERS.md).
import { runDoctor } from './doctor/run-doctor.js'

const USAGE = `usage: resource-tokens <command>

commands:
  doctor    check a provider: discovery, and with --login its refresh behaviour (resource-tokens doctor --help)`

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === 'doctor') return runDoctor(rest, { stdout: process.stdout, stderr: process.stderr, env: process.env })
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  process.stderr.write(`resource-tokens: ${command === undefined ? 'a command is required' : `unknown command "${command}"`}\n\n${USAGE}\n`)
  return 2
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    // An unexpected failure: its message only (library errors never carry secrets or tokens), no stack.
    process.stderr.write(`resource-tokens: ${err instanceof Error ? err.message : 'unknown error'}\n`)
    process.exitCode = 1
  },
)
