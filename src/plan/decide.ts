import { Inputs, StageDecision, StageId } from './types';
import { hashValue } from '../util/hash';

export function inputHash(inputs: Inputs): string {
  return hashValue(inputs);
}

/** Compares the inputs a stage would use now with those its present output was made from. */
export function decide(id: StageId, current: Inputs, previous: Inputs | undefined, damage?: string): StageDecision {
  const hash = inputHash(current);
  if (!previous) return { id, inputHash: hash, upToDate: false, reasons: ['no previous output'] };
  const reasons: string[] = [];
  for (const [name, digest] of Object.entries(current)) {
    if (!(name in previous)) reasons.push(`${name} is a new input`);
    else if (previous[name] !== digest) reasons.push(`${name} changed`);
  }
  for (const name of Object.keys(previous)) if (!(name in current)) reasons.push(`${name} is no longer an input`);
  if (damage) reasons.push(damage);
  return { id, inputHash: hash, upToDate: reasons.length === 0, reasons };
}
