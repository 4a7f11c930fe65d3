// Package clientcsv imports clients from CSV files: Parse reads a file and
// reports every bad row with its line number and a reason a person can
// act on; Import stores a good file's clients through mailing.Service in
// one transaction, or none of them.
//
//	n, rowErrs, err := clientcsv.Import(ctx, mailings, uploadedFile)
//	if errors.Is(err, mailing.ErrInvalid) {
//		for _, e := range rowErrs {
//			fmt.Println(e) // line 4: email: "bob@" is not a valid email address
//		}
//	}
package clientcsv
