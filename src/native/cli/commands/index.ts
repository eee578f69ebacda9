// Every `deepen` subcommand, in the order `deepen --help` lists them.
import type { Command } from '../command';
import { doctorCommand } from './doctor';
import { jobsCommand } from './jobs';
import { serveCommand } from './serve';
import { inspectCommand } from './inspect';
import { expandCommand } from './expand';
import { exportCommand } from './export';
import { dataCommand } from './data';
import { chatCommand } from './chat';
import { generateCommand } from './generate';

export const commands: Command[] = [serveCommand, doctorCommand, jobsCommand, inspectCommand, expandCommand, exportCommand, chatCommand, generateCommand, dataCommand];
