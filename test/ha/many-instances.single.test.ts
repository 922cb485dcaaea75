import { describeManyInstances } from '../support/many-instances.ts';

describeManyInstances('single');
