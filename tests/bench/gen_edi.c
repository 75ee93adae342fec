/* gen_edi.c - deterministic large EDI files for the reader benchmark.
 *
 *   gen_edi x12 MB      an X12 852 (product activity) interchange with
 *                       one set per store, 200 items per store
 *   gen_edi edifact MB  an EDIFACT INVRPT interchange, one message per
 *                       store, 200 items per message
 * Writes to stdout; envelope counts are correct so the file is valid.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	unsigned long long want, out = 0;
	unsigned long store = 0, seed = 42;
	int x12;

	if (argc != 3 || (strcmp(argv[1], "x12") && strcmp(argv[1], "edifact"))) {
		fprintf(stderr, "usage: gen_edi x12|edifact MB\n");
		return 64;
	}
	x12 = !strcmp(argv[1], "x12");
	want = strtoull(argv[2], NULL, 10) << 20;
	if (x12)
		out += (unsigned long long)printf(
			"ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*"
			"STOCKPIPE      *261120*0600*^*00501*000000777*0*P*>~\n"
			"GS*PD*ACMESUPPLY*STOCKPIPE*20261120*0600*777*X*005010~\n");
	else
		out += (unsigned long long)printf(
			"UNA:+.? 'UNB+UNOC:3+5412345000013:14+4012345000009:14+"
			"261120:0600+BENCH777'\n");
	while (out < want) {
		int i, nseg = 0;

		store++;
		if (x12) {
			out += (unsigned long long)printf(
				"ST*852*%lu~\nXQ*H*20261113*20261119~\n"
				"N9*IA*STORE%05lu~\n", store, store);
			nseg = 3;
		} else {
			out += (unsigned long long)printf(
				"UNH+M%lu+INVRPT:D:96A:UN:EAN008'\n"
				"BGM+35+INV%lu+9'\nDTM+137:20261120:102'\n"
				"NAD+WH+%013lu::9'\n", store, store, store);
			nseg = 4;
		}
		for (i = 0; i < 200; i++) {
			unsigned long q;

			seed = seed * 1103515245UL + 12345UL;
			q = (seed >> 16) % 500;
			if (x12)
				out += (unsigned long long)printf(
					"LIN**UP*0%011lu*VN*ACM-%05d~\n"
					"ZA*QA*%lu*EA~\nZA*QS*%lu*EA~\n",
					(seed >> 8) % 100000000000UL, i, q,
					q / 7);
			else
				out += (unsigned long long)printf(
					"LIN+%d++4%012lu:SRS'\nQTY+145:%lu'\n"
					"LOC+18+STORE%05lu::92'\n",
					i + 1, (seed >> 8) % 1000000000000UL, q,
					store);
			nseg += 3;
		}
		if (x12)
			out += (unsigned long long)printf("SE*%d*%lu~\n",
							  nseg + 1, store);
		else
			out += (unsigned long long)printf("UNT+%d+M%lu'\n",
							  nseg + 1, store);
	}
	if (x12)
		printf("GE*%lu*777~\nIEA*1*000000777~\n", store);
	else
		printf("UNZ+%lu+BENCH777'\n", store);
	return 0;
}
