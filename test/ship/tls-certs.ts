import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The openssl CLI (Debian package `openssl`), used to mint throwaway certificates for the TLS tests. */
export function hasOpenssl(): boolean {
  return spawnSync('openssl', ['version']).status === 0;
}

export interface TestPki {
  ca: string;
  /** CA-signed, SAN IP:127.0.0.1 and DNS:localhost. */
  server: { cert: string; key: string };
  /** CA-signed, but for another name only. */
  otherHost: { cert: string; key: string };
  /** Self-signed with the right names: what an attacker on the path presents. */
  attacker: { cert: string; key: string };
  /** CA-signed client certificate. */
  client: { cert: string; key: string };
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function ecKeyArgs(): string[] {
  return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
}

function signed(dir: string, name: string, san: string, extendedKeyUsage: string): { cert: string; key: string } {
  openssl(dir, ['req', '-new', ...ecKeyArgs(), '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  fs.writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=${extendedKeyUsage}\n`);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${name}.crt`, '-extfile', `${name}.ext`]);
  return { cert: fs.readFileSync(path.join(dir, `${name}.crt`), 'utf8'), key: fs.readFileSync(path.join(dir, `${name}.key`), 'utf8') };
}

/** A CA, a server, a wrong-host, a client and a self-signed attacker certificate, made fresh in `dir`. */
export function makeTestPki(dir: string): TestPki {
  openssl(dir, ['req', '-x509', ...ecKeyArgs(), '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=a09 test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const server = signed(dir, 'server', 'IP:127.0.0.1,DNS:localhost', 'serverAuth');
  const otherHost = signed(dir, 'other', 'DNS:collector.other.example', 'serverAuth');
  const client = signed(dir, 'client', 'DNS:shop-1', 'clientAuth');
  openssl(dir, ['req', '-x509', ...ecKeyArgs(), '-keyout', 'attacker.key', '-out', 'attacker.crt', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']);
  return {
    ca: fs.readFileSync(path.join(dir, 'ca.crt'), 'utf8'),
    server,
    otherHost,
    attacker: { cert: fs.readFileSync(path.join(dir, 'attacker.crt'), 'utf8'), key: fs.readFileSync(path.join(dir, 'attacker.key'), 'utf8') },
    client,
  };
}
