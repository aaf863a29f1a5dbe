// The side panel's documents: a minefield record's dossier and the layer's evidence report (PDF).
//
// Which links a reader gets is the server's answer (/workspace/links/{collection}/{uid}): the dossier
// shows where each mine was laid, so only a reader of exact positions is offered it (the PDF route
// refuses everyone else with 403); each report is made for the reader's own audience.
import { el, getJSON, t } from "/static/workspace/common.mjs";

/** Append the documents of feature `uid` of collection `coll` to the list element `list`. An
 * assessment's dossier is its record's. A failure leaves the list as it was: the panel stays usable. */
export async function addDocumentLinks(list, coll, uid, props = {}) {
  const [c, u] = coll === "minefield_record_assessments" && props.minefield_record_uid
    ? ["minefield_records", String(props.minefield_record_uid)] : [coll, uid];
  let answer;
  try {
    answer = await getJSON(`/workspace/links/${encodeURIComponent(c)}/${encodeURIComponent(u)}`);
  } catch {
    return;
  }
  for (const link of answer.links || []) {
    const label = link.kind === "dossier" ? t("dossier_pdf", { uid: u }) : t("report_of", { kind: t(`report_${link.report.replace(/-/g, "_")}`) });
    list.append(el("li", {}, el("a", { href: link.href, target: "_blank", "data-doc": link.kind,
                                       "data-report": link.report || "" }, label)));
  }
}
