import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A PostgreSQL server of our own (initdb in a temp folder, a free port), so that a test can stop and
 * start a real server without disturbing the shared one other tests use. Needs the PostgreSQL binaries
 * and, when running as root, the `postgres` system user (the server refuses to run as root).
 */
export class PrivatePostgres {
  readonly url: string;
  private readonly bin: string;
  private readonly dir: string;

  private constructor(bin: string, dir: string, readonly port: number) {
    this.bin = bin;
    this.dir = dir;
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  }

  /** Null when this machine cannot run one (no binaries, or root without a postgres user). */
  static available(): boolean {
    return PrivatePostgres.binaries() !== null && (process.getuid?.() !== 0 || PrivatePostgres.hasPostgresUser());
  }

  static async create(port: number): Promise<PrivatePostgres> {
    const bin = PrivatePostgres.binaries();
    if (!bin) throw new Error('PostgreSQL binaries not found');
    const dir = mkdtempSync(path.join(tmpdir(), 'hn-pg-'));
    if (process.getuid?.() === 0) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), Number(execFileSync('id', ['-g', 'postgres']).toString().trim()));
    const server = new PrivatePostgres(bin, dir, port);
    server.run('initdb', ['-D', path.join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
    server.start();
    return server;
  }

  start(): void {
    this.run('pg_ctl', ['-D', path.join(this.dir, 'data'), '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', path.join(this.dir, 'log'), '-w', 'start']);
  }

  /** A fast shutdown: open connections are terminated, like a real restart. */
  stop(): void {
    this.run('pg_ctl', ['-D', path.join(this.dir, 'data'), '-m', 'fast', '-w', 'stop']);
  }

  destroy(): void {
    try {
      this.stop();
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private run(tool: string, args: string[]): void {
    const command = path.join(this.bin, tool);
    if (process.getuid?.() === 0) execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], { stdio: 'ignore' });
    else execFileSync(command, args, { stdio: 'ignore' });
  }

  private static binaries(): string | null {
    const root = '/usr/lib/postgresql';
    if (!existsSync(root)) return null;
    const version = readdirSync(root).sort().pop();
    const bin = version ? path.join(root, version, 'bin') : null;
    return bin && existsSync(path.join(bin, 'initdb')) ? bin : null;
  }

  private static hasPostgresUser(): boolean {
    try {
      execFileSync('id', ['postgres'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  }
}
