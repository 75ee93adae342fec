/* stage_ackin.h - acknowledgments back (issue 19, item 8): a target with
 * `acks_in:` names the folder (or sftp:// path) its partner's 997, 999,
 * TA1 or CONTRL files arrive in. After the target's deliveries, the run
 *
 *  1. records the control numbers of each EDI set this run delivered to
 *     the target (read back from the outbox copy with the X12/EDIFACT
 *     readers): ISA13/GS06/ST02, UNB 0020/UNG 0048/UNH 0062;
 *  2. lists acks_in and reads each file it has not read before (the
 *     sources' file ledger, scope "acks_in:TARGET": a file is read once,
 *     its ledger row, its acknowledgments and their matches commit in
 *     one transaction, so a crash reads it again and records it once);
 *  3. matches every acknowledged interchange, group and set to the
 *     delivered sets by those numbers (AK1/AK2 <-> GS06/ST02, TA101 <->
 *     ISA13, UCI/UCM <-> UNB 0020/UNH 0062) and records accepted,
 *     accepted with errors, partially accepted or rejected with the
 *     partner's AK3/AK4, IK3/IK4 or UCS/UCD details (state_acks.h).
 *
 * An acknowledgment that matches no delivery is kept (ack_received,
 * matched 0) and warned about; a file that is no readable acknowledgment
 * is moved to STATE_DIR/quarantine/acks_in/TARGET/ and recorded with the
 * reader's error (file, line, reason); neither stops the run. A listing
 * or fetch that fails (the partner's server down) is a warning: the next
 * run lists again.
 */
#ifndef STOCKPIPE_STAGE_ACKIN_H
#define STOCKPIPE_STAGE_ACKIN_H

struct err;
struct run;
struct cfg_target;

/* Steps 1-3 for target t of run r. 0, or -1 only when the state store
 * fails (err set). */
int ackin_target(struct run *r, const struct cfg_target *t,
		 struct err *err);

#endif
