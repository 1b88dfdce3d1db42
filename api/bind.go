package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"
	"github.com/labstack/echo/v4"

	"github.com/papi-hcmc/papi/survey"
)

// bindJSON decodes a JSON body strictly (unknown fields are refused, so a
// client cannot set what it should not) and validates it with the struct's
// validate tags, turning every problem into a bilingual field error.
func (s *Server) bindJSON(c echo.Context, dst any) error {
	if err := s.decodeJSON(c, dst); err != nil {
		return err
	}
	return s.validateStruct(dst)
}

// decodeJSON decodes a JSON body strictly.
func (s *Server) decodeJSON(c echo.Context, dst any) error {
	// An explicit JSON type is required: a cross-site HTML form can send
	// text/plain or no type at all, never application/json.
	if mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType)); err != nil || mt != echo.MIMEApplicationJSON {
		return echo.ErrUnsupportedMediaType
	}
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return survey.Invalid("body", "Chỉ gửi một đối tượng JSON.", "Send exactly one JSON object.")
	}
	return nil
}

// validateStruct checks the validate tags, returning a *survey.ValidationError.
func (s *Server) validateStruct(dst any) error {
	if err := s.validate.Struct(dst); err != nil {
		return validationError(dst, err)
	}
	return nil
}

func decodeError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var herr *echo.HTTPError
	switch {
	case errors.As(err, &herr):
		// The body limit, met while reading a chunked body: 413.
		return herr
	case errors.Is(err, io.EOF):
		return survey.Invalid("body", "Thiếu dữ liệu gửi lên.", "The request body is empty.")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return survey.Invalid("body", "Dữ liệu JSON không hợp lệ.", "The body is not valid JSON.")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return survey.Invalid(field, fmt.Sprintf("Sai kiểu dữ liệu, cần %s.", typ.Type), fmt.Sprintf("Wrong type: expected %s.", typ.Type))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return survey.Invalid(name, "Trường này không được hỗ trợ.", "Unknown field; remove it.")
	}
	// The reader's own error text stays in the server: it can name internals.
	return survey.Invalid("body", "Không đọc được dữ liệu gửi lên.", "The body could not be read; send it again.")
}

// validationError words validator failures per field, using the JSON name.
func validationError(dst any, err error) error {
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return err
	}
	t := reflect.TypeOf(dst)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	out := &survey.ValidationError{}
	for _, fe := range verrs {
		name := fe.Field()
		if f, ok := t.FieldByName(fe.StructField()); ok {
			if tag := strings.Split(f.Tag.Get("json"), ",")[0]; tag != "" {
				name = tag
			}
		}
		out.Errors = append(out.Errors, survey.FieldError{Field: name, Message: tagMessage(fe)})
	}
	return out
}

func tagMessage(fe validator.FieldError) survey.Text {
	p := fe.Param()
	switch fe.Tag() {
	case "required":
		return survey.Text{Vi: "Trường này là bắt buộc.", En: "This field is required."}
	case "max":
		return survey.Text{Vi: "Dài hoặc lớn quá mức cho phép (tối đa " + p + ").", En: "Too long or too large (at most " + p + ")."}
	case "min":
		return survey.Text{Vi: "Ngắn hoặc nhỏ hơn mức cho phép (tối thiểu " + p + ").", En: "Too short or too small (at least " + p + ")."}
	case "len":
		return survey.Text{Vi: "Cần đúng " + p + " ký tự.", En: "Must be exactly " + p + " characters."}
	case "oneof":
		return survey.Text{Vi: "Giá trị phải là một trong: " + p + ".", En: "Must be one of: " + p + "."}
	case "email":
		return survey.Text{Vi: "Địa chỉ email không hợp lệ.", En: "Not a valid email address."}
	case "gte":
		return survey.Text{Vi: "Giá trị phải từ " + p + " trở lên.", En: "Must be at least " + p + "."}
	case "numeric":
		return survey.Text{Vi: "Chỉ gồm chữ số.", En: "Digits only."}
	case "alphanum":
		return survey.Text{Vi: "Chỉ gồm chữ và số.", En: "Letters and digits only."}
	case "submission_id":
		return survey.Text{Vi: "Mã lượt trả lời cần 8–64 ký tự chữ, số, '-' hoặc '_' (ví dụ một UUID).", En: "submission_id needs 8–64 letters, digits, '-' or '_' (a UUID, say)."}
	}
	return survey.Text{Vi: "Giá trị không hợp lệ (" + fe.Tag() + ").", En: "Invalid value (" + fe.Tag() + ")."}
}
